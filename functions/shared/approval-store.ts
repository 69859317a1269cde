import { createHash, randomBytes } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ApprovalAlreadyDecidedError, ApprovalExpiredError, ApprovalNotFoundError, ApprovalStoreError, isTransientAwsError, TransientAwsError } from './errors';

/**
 * The approvals table. The link carries an opaque random id (256 bits); only its SHA-256 is
 * stored, so the table alone cannot forge a link. The task token stays here, never in a URL,
 * an email or a log line. A decision is a conditional write (pending -> decided, before expiry),
 * so a link works once even when two clicks race.
 */
export interface ApprovalRecord {
  pk: string;
  incidentId: string;
  accountId: string;
  taskId: string;
  taskKind: string;
  title: string;
  token: string;
  status: 'pending' | 'approved' | 'rejected';
  createdAt: string;
  expiresAt: string;
  ttl: number;
  decidedBy?: string;
  decidedAt?: string;
  via?: string;
}

export const approvalStorePermissions = {
  create: ['dynamodb:PutItem'],
  read: ['dynamodb:GetItem'],
  decide: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
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

  private wrap(operation: string, error: unknown): Error {
    if (isTransientAwsError(error)) return new TransientAwsError(`dynamodb:${operation}`, { cause: error });
    return new ApprovalStoreError(`Approvals table ${operation} failed: ${(error as Error).name}`, { cause: error });
  }

  async create(id: string, record: Omit<ApprovalRecord, 'pk' | 'status' | 'ttl'>): Promise<void> {
    const item: ApprovalRecord = { ...record, pk: approvalKey(id), status: 'pending', ttl: Math.ceil(new Date(record.expiresAt).getTime() / 1000) + 7 * 86400 };
    try {
      await this.ddb.send(new PutCommand({ TableName: this.table, Item: { ...item, sk: 'APPROVAL' }, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (error) {
      throw this.wrap('PutItem', error);
    }
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    try {
      const out = await this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk: approvalKey(id), sk: 'APPROVAL' }, ConsistentRead: true }));
      return out.Item as ApprovalRecord | undefined;
    } catch (error) {
      throw this.wrap('GetItem', error);
    }
  }

  /** Record a decision once. Returns the record as it was (with its token) for the callback. */
  async decide(id: string, outcome: 'approved' | 'rejected', by: { decidedBy: string; via: string }, now: Date): Promise<ApprovalRecord> {
    const record = await this.get(id);
    if (!record) throw new ApprovalNotFoundError();
    if (record.status !== 'pending') throw new ApprovalAlreadyDecidedError(record.status);
    if (new Date(record.expiresAt).getTime() <= now.getTime()) throw new ApprovalExpiredError(record.expiresAt);
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: approvalKey(id), sk: 'APPROVAL' },
          UpdateExpression: 'SET #status = :outcome, decidedBy = :by, decidedAt = :at, via = :via',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':outcome': outcome, ':by': by.decidedBy, ':at': now.toISOString(), ':via': by.via, ':pending': 'pending' },
        }),
      );
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') throw new ApprovalAlreadyDecidedError('decided by someone else a moment ago');
      throw this.wrap('UpdateItem', error);
    }
    return { ...record, status: outcome, decidedBy: by.decidedBy, decidedAt: now.toISOString(), via: by.via };
  }
}
