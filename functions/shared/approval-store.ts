import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
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

/** Wrong codes or forged forms accepted per approval before it locks. */
export const MAX_FAILED_ATTEMPTS = 5;
/** Wrong codes per responder (across approvals) within the window before their decisions are refused. */
export const MAX_RESPONDER_FAILURES = 10;
export const RESPONDER_FAILURE_WINDOW_MS = 15 * 60_000;

export const approvalStorePermissions = {
  create: ['dynamodb:PutItem'],
  read: ['dynamodb:GetItem'],
  decide: ['dynamodb:GetItem', 'dynamodb:PutItem'],
} as const;

/** A new link id: 32 random bytes, base64url (43 characters). */
export function newApprovalId(): string {
  return randomBytes(32).toString('base64url');
}

export function approvalKey(id: string): string {
  return `APPROVAL#${createHash('sha256').update(id).digest('hex')}`;
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
    // Created once: a second create of the same id fails (its condition) as an ApprovalStoreError.
    await this.call('PutItem', () =>
      this.ddb.send(
        new PutCommand({ TableName: this.table, Item: { ...item, sk: 'APPROVAL' }, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    );
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const out = await this.call('GetItem', () =>
      this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk: approvalKey(id), sk: 'APPROVAL' }, ConsistentRead: true })),
    );
    return out.Item as ApprovalRecord | undefined;
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
      const vote: ApprovalVote = { by: by.decidedBy, at: now.toISOString(), via: by.via, ...(by.comment ? { comment: by.comment } : {}) };
      if (outcome === 'rejected') {
        complete = true;
        return {
          ...r,
          status: 'rejected',
          decidedBy: by.decidedBy,
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

  /** Count a wrong code or forged form; true when the approval is now locked. */
  async recordFailedAttempt(id: string): Promise<boolean> {
    const record = await this.update(id, (r) => ({ ...r, failedAttempts: r.failedAttempts + 1 }));
    return record.failedAttempts >= MAX_FAILED_ATTEMPTS;
  }

  private responderKey(responder: string) {
    return { pk: `RESPONDER#${createHash('sha256').update(responder.toLowerCase()).digest('hex')}`, sk: 'FAILURES' };
  }

  /** Whether a responder is locked out by too many wrong codes in the window. */
  async responderLocked(responder: string, now: Date): Promise<boolean> {
    const out = await this.call('GetItem', () =>
      this.ddb.send(new GetCommand({ TableName: this.table, Key: this.responderKey(responder), ConsistentRead: true })),
    );
    const item = out.Item as { count: number; windowStart: number } | undefined;
    return Boolean(item && now.getTime() - item.windowStart < RESPONDER_FAILURE_WINDOW_MS && item.count >= MAX_RESPONDER_FAILURES);
  }

  /** Count a wrong code against the responder (a window of RESPONDER_FAILURE_WINDOW_MS). */
  async recordResponderFailure(responder: string, now: Date): Promise<void> {
    const key = this.responderKey(responder);
    for (let attempt = 0; attempt < 5; attempt++) {
      const out = await this.call('GetItem', () =>
        this.ddb.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true })),
      );
      const current = out.Item as { count: number; windowStart: number; version: number } | undefined;
      const fresh = !current || now.getTime() - current.windowStart >= RESPONDER_FAILURE_WINDOW_MS;
      const next = {
        ...key,
        count: fresh ? 1 : current.count + 1,
        windowStart: fresh ? now.getTime() : current.windowStart,
        version: (current?.version ?? 0) + 1,
        ttl: Math.ceil(now.getTime() / 1000) + 86400,
      };
      const condition = current
        ? { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': current.version } }
        : { ConditionExpression: 'attribute_not_exists(pk)' };
      if (await this.writeIf(() => this.ddb.send(new PutCommand({ TableName: this.table, Item: next, ...condition })))) return;
    }
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
