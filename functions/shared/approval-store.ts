import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './conditional-write';
import { ApprovalAlreadyDecidedError, ApprovalExpiredError, ApprovalNotFoundError, ApprovalStoreError, storeCall } from './errors';

/**
 * The approvals table. The link carries an opaque random id (256 bits); only its SHA-256 is
 * stored, so the table alone cannot forge a link. The task token stays here, never in a URL,
 * an email or a log line. A decision is a conditional write (pending -> decided, before expiry),
 * so a link works once even when two clicks race.
 */
export interface ApprovalVote {
  by: string;
  at: string;
  via: string;
  comment?: string;
}

export interface ApprovalRecord {
  pk: string;
  incidentId: string;
  accountId: string;
  taskId: string;
  taskKind: string;
  title: string;
  /** What the page shows: why, the console steps, how it is verified. */
  why?: string[];
  steps?: string[];
  verification?: string;
  severity?: string;
  token: string;
  status: 'pending' | 'approved' | 'rejected';
  /** Two-person rule: destructive remediations and "this was me" need two different responders. */
  requiredApprovals: number;
  approvals: ApprovalVote[];
  /** Two-person rule for rejections too: one guessed or phished code cannot stop a remediation. */
  rejections?: ApprovalVote[];
  failedAttempts: number;
  version: number;
  /** Which write produced this version (tells our own retried write from someone else's). */
  writeId?: string;
  createdAt: string;
  expiresAt: string;
  ttl: number;
  decidedBy?: string;
  decidedAt?: string;
  via?: string;
  comment?: string;
}

/** Wrong codes accepted per (approval link, responder) before that responder's codes on that link are refused. */
export const MAX_FAILED_ATTEMPTS = 5;
/** Wrong codes per responder (across approvals) within one window before their sign-ins are refused. */
export const MAX_RESPONDER_FAILURES = 10;
export const RESPONDER_FAILURE_WINDOW_MS = 15 * 60_000;
/** How long a responder stays locked out once MAX_RESPONDER_FAILURES is reached (or until unlocked). */
export const RESPONDER_LOCKOUT_MS = 15 * 60_000;

/**
 * Attempts reserved before a code is checked (see reserveAttempt): the keys of the two counters
 * the reservation took a slot in, so a right code can give both back.
 */
export interface AttemptReservation {
  link: { pk: string; sk: string };
  responder: { pk: string; sk: string };
}

export interface ResponderLockout {
  email: string;
  until: string;
  /** Wrong codes in the window that locked it. */
  failures: number;
}

export const approvalStorePermissions = {
  create: ['dynamodb:PutItem'],
  read: ['dynamodb:GetItem'],
  decide: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
  /** The unlock command: ends a responder's lockout. */
  unlock: ['dynamodb:DeleteItem'],
} as const;

function sessionKey(token: string) {
  return { pk: `SESSION#${createHash('sha256').update(token).digest('hex')}`, sk: 'SESSION' };
}

function responderHash(responder: string): string {
  return createHash('sha256').update(responder.trim().toLowerCase()).digest('hex');
}

/** A new link id: 32 random bytes, base64url (43 characters). */
export function newApprovalId(): string {
  return randomBytes(32).toString('base64url');
}

export function approvalKey(id: string): string {
  return `APPROVAL#${createHash('sha256').update(id).digest('hex')}`;
}

/**
 * An approval is named by its link id (what the email carries) or by its key (what the incident
 * page's forms carry for the incident's other tasks, decided within a responder's session). A link
 * id is base64url and never contains '#'.
 */
function keyOf(ref: string): string {
  return ref.startsWith('APPROVAL#') ? ref : approvalKey(ref);
}

/** How long a responder's sign-in lasts: they decide any of the incident's tasks within it. */
export const SESSION_MS = 15 * 60_000;

/** A responder signed in for one incident (stored under the SHA-256 of the cookie's token). */
export interface ResponderSession {
  responder: string;
  incidentId: string;
  expiresAt: string;
}

export class ApprovalStore {
  constructor(
    private readonly ddb: Pick<DynamoDBDocumentClient, 'send'>,
    private readonly table: string,
  ) {}

  private call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return storeCall(`dynamodb:${operation}`, run, ApprovalStoreError, `Approvals table ${operation} failed`);
  }

  /** A write on condition: false when the condition did not hold (someone else wrote first). */
  private writeIf(run: () => Promise<unknown>): Promise<boolean> {
    return conditionalWrite('dynamodb:PutItem', run, ApprovalStoreError, 'Approvals table PutItem failed');
  }

  async create(
    id: string,
    record: Omit<ApprovalRecord, 'pk' | 'status' | 'ttl' | 'approvals' | 'failedAttempts' | 'version' | 'requiredApprovals'> & {
      requiredApprovals?: number;
    },
  ): Promise<void> {
    const item: ApprovalRecord = {
      ...record,
      requiredApprovals: record.requiredApprovals ?? 1,
      pk: approvalKey(id),
      status: 'pending',
      approvals: [],
      failedAttempts: 0,
      version: 0,
      ttl: Math.ceil(new Date(record.expiresAt).getTime() / 1000) + 7 * 86400,
    };
    // The incident's index of its approvals first (the incident page lists them); an entry whose
    // approval was never written is skipped by openTasks.
    await this.call('PutItem', () =>
      this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `INCIDENT#${item.incidentId}`, sk: `TASK#${item.createdAt}#${item.pk}`, approval: item.pk, ttl: item.ttl },
        }),
      ),
    );
    // Created once: a second create of the same id fails (its condition) as an ApprovalStoreError.
    await this.call('PutItem', () =>
      this.ddb.send(
        new PutCommand({ TableName: this.table, Item: { ...item, sk: 'APPROVAL' }, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    );
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const out = await this.call('GetItem', () =>
      this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk: keyOf(id), sk: 'APPROVAL' }, ConsistentRead: true })),
    );
    return out.Item as ApprovalRecord | undefined;
  }

  /** The incident's approvals still open (pending, not expired), oldest first, each with its key. */
  async openTasks(incidentId: string, now: Date): Promise<(ApprovalRecord & { pk: string })[]> {
    const keys: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.call('Query', () =>
        this.ddb.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
            ExpressionAttributeValues: { ':pk': `INCIDENT#${incidentId}`, ':p': 'TASK#' },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      keys.push(...(out.Items ?? []).map((i) => String(i['approval'])));
      start = out.LastEvaluatedKey;
    } while (start);
    const records = await Promise.all(keys.map((k) => this.get(k)));
    return records.filter(
      (r): r is ApprovalRecord => r !== undefined && r.status === 'pending' && new Date(r.expiresAt).getTime() > now.getTime(),
    );
  }

  /** Sign a responder in for one incident: a fresh 256-bit token, stored only as its SHA-256. */
  async createSession(responder: string, incidentId: string, now: Date): Promise<{ token: string; session: ResponderSession }> {
    const token = randomBytes(32).toString('base64url');
    const session = { responder, incidentId, expiresAt: new Date(now.getTime() + SESSION_MS).toISOString() };
    await this.call('PutItem', () =>
      this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...sessionKey(token), ...session, ttl: Math.ceil(now.getTime() / 1000) + 86400 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    return { token, session };
  }

  /** The session a token names, while it lasts. */
  async session(token: string, now: Date): Promise<ResponderSession | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const out = await this.call('GetItem', () =>
      this.ddb.send(new GetCommand({ TableName: this.table, Key: sessionKey(token), ConsistentRead: true })),
    );
    const item = out.Item as ResponderSession | undefined;
    if (!item || new Date(item.expiresAt).getTime() <= now.getTime()) return undefined;
    return { responder: item.responder, incidentId: item.incidentId, expiresAt: item.expiresAt };
  }

  /**
   * Change a record only if nobody else changed it since it was read (optimistic, on `version`):
   * two decisions arriving at once cannot both win.
   */
  private async update(id: string, mutate: (record: ApprovalRecord) => ApprovalRecord): Promise<ApprovalRecord> {
    let current = await this.get(id);
    for (let attempt = 0; attempt < 5; attempt++) {
      if (!current) throw new ApprovalNotFoundError();
      // Each write carries its own id: when the SDK retries a write whose response was lost, the
      // condition fails on our own write, and the id tells that apart from someone else's.
      const next = { ...mutate(current), version: current.version + 1, writeId: randomUUID() };
      const version = current.version;
      if (
        await this.writeIf(() =>
          this.ddb.send(
            new PutCommand({
              TableName: this.table,
              Item: { ...next, sk: 'APPROVAL' },
              ConditionExpression: 'version = :v',
              ExpressionAttributeValues: { ':v': version },
            }),
          ),
        )
      )
        return next;
      // The record as it is now: ours (a retried write), or someone else's to build on.
      current = await this.get(id);
      if (current?.writeId === next.writeId) return next;
    }
    throw new ApprovalStoreError('The approval kept changing under us; try again');
  }

  /**
   * Record one responder's decision. A reject decides at once; an approve decides when the quorum
   * of different responders is met. Expired, decided, unknown, or the same responder twice: refused.
   */
  async decide(
    id: string,
    outcome: 'approved' | 'rejected',
    by: { decidedBy: string; via: string; comment?: string },
    now: Date,
  ): Promise<{ record: ApprovalRecord; complete: boolean }> {
    let complete = false;
    const record = await this.update(id, (r) => {
      if (r.status !== 'pending') throw new ApprovalAlreadyDecidedError(r.status);
      if (new Date(r.expiresAt).getTime() <= now.getTime()) throw new ApprovalExpiredError(r.expiresAt);
      if (r.approvals.some((v) => v.by === by.decidedBy))
        throw new ApprovalAlreadyDecidedError(`already approved by ${by.decidedBy}; waiting for a different responder`);
      if ((r.rejections ?? []).some((v) => v.by === by.decidedBy))
        throw new ApprovalAlreadyDecidedError(`already rejected by ${by.decidedBy}; waiting for a different responder`);
      const vote: ApprovalVote = { by: by.decidedBy, at: now.toISOString(), via: by.via, ...(by.comment ? { comment: by.comment } : {}) };
      if (outcome === 'rejected') {
        // A two-person task needs two different responders to reject it too: one guessed or phished
        // code can neither run a destructive change nor stop it.
        const rejections = [...(r.rejections ?? []), vote];
        complete = rejections.length >= r.requiredApprovals;
        if (!complete) return { ...r, rejections };
        return {
          ...r,
          rejections,
          status: 'rejected',
          decidedBy: rejections.map((v) => v.by).join(' + '),
          decidedAt: vote.at,
          via: by.via,
          ...(by.comment ? { comment: by.comment } : {}),
        };
      }
      const approvals = [...r.approvals, vote];
      complete = approvals.length >= r.requiredApprovals;
      return complete
        ? {
            ...r,
            approvals,
            status: 'approved',
            decidedBy: approvals.map((v) => v.by).join(' + '),
            decidedAt: vote.at,
            via: by.via,
            ...(by.comment ? { comment: by.comment } : {}),
          }
        : { ...r, approvals };
    });
    return { record, complete };
  }

  /** One slot in a counter, taken only while it holds fewer than `max` (one conditional UpdateItem: no race gets past it). */
  private reserve(key: { pk: string; sk: string }, max: number, ttl: number): Promise<boolean> {
    return conditionalWrite(
      'dynamodb:UpdateItem',
      () =>
        this.ddb.send(
          new UpdateCommand({
            TableName: this.table,
            Key: key,
            UpdateExpression: 'SET #ttl = :ttl ADD attempts :one',
            ConditionExpression: 'attribute_not_exists(attempts) OR attempts < :max',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':one': 1, ':max': max, ':ttl': ttl },
          }),
        ),
      ApprovalStoreError,
      'Approvals table UpdateItem failed',
    );
  }

  private async release(key: { pk: string; sk: string }): Promise<void> {
    await this.call('UpdateItem', () =>
      this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: 'ADD attempts :minus',
          ConditionExpression: 'attribute_exists(attempts)',
          ExpressionAttributeValues: { ':minus': -1 },
        }),
      ),
    );
  }

  private responderWindowKey(responder: string, now: Date) {
    return { pk: `RESPONDER#${responderHash(responder)}`, sk: `FAILURES#${Math.floor(now.getTime() / RESPONDER_FAILURE_WINDOW_MS)}` };
  }

  private lockKey(responder: string) {
    return { pk: `RESPONDER#${responderHash(responder)}`, sk: 'LOCKOUT' };
  }

  /**
   * Reserve one attempt before a code is checked: a slot for (this link, this responder), at most
   * MAX_FAILED_ATTEMPTS, and one in the responder's window, at most MAX_RESPONDER_FAILURES. Each is
   * one conditional UpdateItem, so 40 parallel guesses get at most 5 slots. A right code gives the
   * slots back (releaseAttempt): only wrong codes stay counted.
   */
  async reserveAttempt(
    id: string,
    responder: string,
    expiresAt: string,
    now: Date,
  ): Promise<{ reserved: AttemptReservation } | { refused: 'link' | 'responder' }> {
    const link = { pk: approvalKey(id), sk: `ATTEMPTS#${responderHash(responder)}` };
    if (!(await this.reserve(link, MAX_FAILED_ATTEMPTS, Math.ceil(new Date(expiresAt).getTime() / 1000) + 7 * 86400)))
      return { refused: 'link' };
    const window = this.responderWindowKey(responder, now);
    if (!(await this.reserve(window, MAX_RESPONDER_FAILURES, Math.ceil(now.getTime() / 1000) + 86400))) {
      await this.release(link);
      return { refused: 'responder' };
    }
    return { reserved: { link, responder: window } };
  }

  /** The code was right (or never a guess): give the reserved slots back. */
  async releaseAttempt(reservation: AttemptReservation): Promise<void> {
    await this.release(reservation.link);
    await this.release(reservation.responder);
  }

  /**
   * The code was wrong: its slots stay taken. When that fills the responder's window, the responder
   * is locked out for RESPONDER_LOCKOUT_MS; the lockout is returned once, to whoever started it, so
   * it is announced once.
   */
  async wrongCode(reservation: AttemptReservation, responder: string, now: Date): Promise<ResponderLockout | undefined> {
    const out = await this.call('GetItem', () =>
      this.ddb.send(new GetCommand({ TableName: this.table, Key: reservation.responder, ConsistentRead: true })),
    );
    const failures = Number((out.Item as { attempts?: number } | undefined)?.attempts ?? 0);
    if (failures < MAX_RESPONDER_FAILURES) return undefined;
    const until = new Date(now.getTime() + RESPONDER_LOCKOUT_MS).toISOString();
    const started = await this.writeIf(() =>
      this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...this.lockKey(responder), until, failures, ttl: Math.ceil(now.getTime() / 1000) + 86400 },
          ConditionExpression: 'attribute_not_exists(pk) OR #until < :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now.toISOString() },
        }),
      ),
    );
    return started ? { email: responder, until, failures } : undefined;
  }

  /** The responder's lockout, if one is in force: too many wrong codes, until it ends or is unlocked. */
  async responderLockout(responder: string, now: Date): Promise<ResponderLockout | undefined> {
    const out = await this.call('GetItem', () =>
      this.ddb.send(new GetCommand({ TableName: this.table, Key: this.lockKey(responder), ConsistentRead: true })),
    );
    const item = out.Item as { until: string; failures: number } | undefined;
    return item && item.until > now.toISOString() ? { email: responder, until: item.until, failures: item.failures } : undefined;
  }

  /** Whether a responder is locked out by too many wrong codes. */
  async responderLocked(responder: string, now: Date): Promise<boolean> {
    return (await this.responderLockout(responder, now)) !== undefined;
  }

  /** End a lockout (the unlock command): the lock and the current and previous windows' counts. */
  async unlockResponder(responder: string, now: Date): Promise<void> {
    const windows = [now, new Date(now.getTime() - RESPONDER_FAILURE_WINDOW_MS)].map((t) => this.responderWindowKey(responder, t));
    for (const key of [this.lockKey(responder), ...windows])
      await this.call('DeleteItem', () => this.ddb.send(new DeleteCommand({ TableName: this.table, Key: key })));
  }

  /**
   * A TOTP code is accepted once: the responder's last used time step is kept, and a code for that
   * step or an earlier one is a replay. True when `step` is fresh (and is now the last used).
   */
  async useTotpStep(responder: string, step: number): Promise<boolean> {
    const key = { pk: `RESPONDER#${createHash('sha256').update(responder.toLowerCase()).digest('hex')}`, sk: 'TOTP' };
    const read = async () =>
      (await this.call('GetItem', () => this.ddb.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true })))).Item as
        { lastStep: number; version: number; writeId?: string } | undefined;
    let current = await read();
    for (let attempt = 0; attempt < 5; attempt++) {
      if (current && step <= current.lastStep) return false;
      const writeId = randomUUID();
      const item = { ...key, lastStep: step, version: (current?.version ?? 0) + 1, writeId };
      const condition = current
        ? { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': current.version } }
        : { ConditionExpression: 'attribute_not_exists(pk)' };
      if (await this.writeIf(() => this.ddb.send(new PutCommand({ TableName: this.table, Item: item, ...condition })))) return true;
      // Our own write, retried after its response was lost, is ours, not a replay; otherwise look again.
      current = await read();
      if (current?.writeId === writeId) return true;
    }
    return false;
  }
}
