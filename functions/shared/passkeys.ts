import { createHash, randomBytes } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './conditional-write';
import { ApprovalStoreError, storeCall } from './errors';

/**
 * Responders' passkeys (WebAuthn), kept in the approvals table: a credential's public key and
 * counter (nothing secret), one-time enrollment links (stored as their SHA-256; the CLI makes
 * them), and the sign-in challenges, each usable once. A passkey is bound by the authenticator to
 * this site's RP ID and checked against this site's origin, so a look-alike page cannot use it.
 */
export interface StoredPasskey {
  email: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports?: string[];
}

export const passkeyPermissions = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

/** How long an enrollment link works. */
export const ENROLLMENT_HOURS = 24;
const CHALLENGE_MS = 5 * 60_000;

const hash = (s: string) => createHash('sha256').update(s).digest('hex');
const enrollmentKey = (token: string) => ({ pk: `ENROLL#${hash(token)}`, sk: 'ENROLL' });
const challengeKey = (challenge: string) => ({ pk: `CHALLENGE#${hash(challenge)}`, sk: 'CHALLENGE' });
const passkeyKey = (credentialId: string) => ({ pk: `PASSKEY#${credentialId}`, sk: 'PASSKEY' });

export class PasskeyStore {
  constructor(
    private readonly ddb: Pick<DynamoDBDocumentClient, 'send'>,
    private readonly table: string,
  ) {}

  private get(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    return storeCall(
      'dynamodb:GetItem',
      async () => (await this.ddb.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }))).Item,
      ApprovalStoreError,
      'Approvals table GetItem failed',
    );
  }

  /** Mark an item used, once: false when it was used already (or is gone). */
  private useOnce(key: { pk: string; sk: string }): Promise<boolean> {
    return conditionalWrite(
      'dynamodb:UpdateItem',
      () =>
        this.ddb.send(
          new UpdateCommand({
            TableName: this.table,
            Key: key,
            UpdateExpression: 'SET used = :used',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(used)',
            ExpressionAttributeValues: { ':used': 1 },
          }),
        ),
      ApprovalStoreError,
      'Approvals table UpdateItem failed',
    );
  }

  private put(item: Record<string, unknown>): Promise<unknown> {
    return storeCall(
      'dynamodb:PutItem',
      () => this.ddb.send(new PutCommand({ TableName: this.table, Item: item })),
      ApprovalStoreError,
      'Approvals table PutItem failed',
    );
  }

  /** A one-time enrollment link's token for a responder (the CLI prints the link once). */
  async createEnrollment(email: string, now: Date): Promise<{ token: string; expiresAt: string }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + ENROLLMENT_HOURS * 3600_000).toISOString();
    await this.put({ ...enrollmentKey(token), email, expiresAt, ttl: Math.ceil(now.getTime() / 1000) + ENROLLMENT_HOURS * 3600 + 86400 });
    return { token, expiresAt };
  }

  /** The enrollment a token names, if unused and unexpired. */
  async enrollment(token: string, now: Date): Promise<{ email: string; expiresAt: string; challenge?: string } | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const item = (await this.get(enrollmentKey(token))) as
      { email: string; expiresAt: string; challenge?: string; used?: number } | undefined;
    if (!item || item.used || item.expiresAt <= now.toISOString()) return undefined;
    return { email: item.email, expiresAt: item.expiresAt, ...(item.challenge ? { challenge: item.challenge } : {}) };
  }

  async setEnrollmentChallenge(token: string, challenge: string): Promise<void> {
    await storeCall(
      'dynamodb:UpdateItem',
      () =>
        this.ddb.send(
          new UpdateCommand({
            TableName: this.table,
            Key: enrollmentKey(token),
            UpdateExpression: 'SET challenge = :c',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':c': challenge },
          }),
        ),
      ApprovalStoreError,
      'Approvals table UpdateItem failed',
    );
  }

  /** Use the enrollment (once) and keep the new passkey. False when the link was used meanwhile. */
  async finishEnrollment(token: string, credentialId: string, passkey: StoredPasskey): Promise<boolean> {
    if (!(await this.useOnce(enrollmentKey(token)))) return false;
    await this.put({ ...passkeyKey(credentialId), ...passkey });
    return true;
  }

  /** A sign-in challenge, for the incident whose page asked for it. */
  async saveChallenge(challenge: string, incidentId: string, now: Date): Promise<void> {
    await this.put({
      ...challengeKey(challenge),
      incidentId,
      expiresAt: new Date(now.getTime() + CHALLENGE_MS).toISOString(),
      ttl: Math.ceil(now.getTime() / 1000) + 86400,
    });
  }

  /** Use a challenge once: the incident it was issued for, or undefined (unknown, used, expired). */
  async takeChallenge(challenge: string, now: Date): Promise<string | undefined> {
    const item = (await this.get(challengeKey(challenge))) as { incidentId: string; expiresAt: string } | undefined;
    if (!item || item.expiresAt <= now.toISOString()) return undefined;
    return (await this.useOnce(challengeKey(challenge))) ? item.incidentId : undefined;
  }

  async passkey(credentialId: string): Promise<StoredPasskey | undefined> {
    if (!/^[A-Za-z0-9_-]{1,1400}$/.test(credentialId)) return undefined;
    return (await this.get(passkeyKey(credentialId))) as StoredPasskey | undefined;
  }

  async updateCounter(credentialId: string, passkey: StoredPasskey, counter: number): Promise<void> {
    await this.put({ ...passkeyKey(credentialId), ...passkey, counter });
  }
}
