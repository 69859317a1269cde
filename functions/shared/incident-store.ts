import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './conditional-write';
import { IncidentStoreError, storeCall } from './errors';
import type { ExecutionInput, IncidentEvent, IncidentStatus } from './schemas';

/**
 * The incidents table. One open incident per account, kept by a marker item that is written
 * only if absent (the conditional write is what makes concurrent intakes agree):
 *   ACCOUNT#<id> / OPEN              -> the open incident, its execution input, what was done for it
 *   INCIDENT#<id> / META             -> status, account, opened / closed times
 *   INCIDENT#<id> / EVENT#<key>      -> each root event attached (deduplicated: a redelivery has the same key)
 *   ACCOUNT#<id> / SESSION#<keyId>   -> this tool's own AssumeRoot sessions (TTL)
 *   PIPELINE#CANARY / <account>#<region> -> when that account and region's canary last arrived (TTL)
 *   PIPELINE#HEALTH / STATE          -> what the last pipeline check reported (alerts go out on change)
 */
export interface OpenMarker {
  incidentId: string;
  accountId: string;
  openedAt: string;
  executionInput: ExecutionInput;
  executionArn?: string;
  alertedAt?: string;
}

export type OpenOrAttach =
  | { outcome: 'opened'; marker: OpenMarker }
  | { outcome: 'attached'; marker: OpenMarker; duplicate: boolean };

const key = {
  open: (accountId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: 'OPEN' }),
  meta: (incidentId: string) => ({ pk: `INCIDENT#${incidentId}`, sk: 'META' }),
  event: (incidentId: string, eventId: string) => ({ pk: `INCIDENT#${incidentId}`, sk: `EVENT#${eventId}` }),
  session: (accountId: string, accessKeyId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: `SESSION#${accessKeyId}` }),
  canary: (accountId: string, region: string) => ({ pk: 'PIPELINE#CANARY', sk: `${accountId}#${region}` }),
  health: { pk: 'PIPELINE#HEALTH', sk: 'STATE' },
};

/** When the canary of one account and region last arrived. */
export interface CanaryArrival {
  accountId: string;
  region: string;
  receivedAt: string;
}

/** What the last pipeline check saw, so an alert goes out when it changes (not every run). */
export interface PipelineHealthState {
  firstCheckAt: string;
  digest: string;
}

/** IAM actions each method needs on the incidents table (serverless.yml grants follow these). */
export const incidentStorePermissions = {
  openOrAttach: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  read: ['dynamodb:GetItem', 'dynamodb:Query'],
  close: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  sessions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
  recordOwnSession: ['dynamodb:PutItem'],
  recordCanary: ['dynamodb:PutItem'],
  pipelineHealth: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem'],
} as const;

/** Records an AssumeRoot session this tool opened (`IncidentStore.recordOwnSession`), injected into the steps that open one. */
export type RecordOwnSession = (accountId: string, accessKeyId: string, expiresAt: Date) => Promise<void>;

export class IncidentStore {
  constructor(
    private readonly ddb: Pick<DynamoDBDocumentClient, 'send'>,
    private readonly table: string,
  ) {}

  private call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return storeCall(`dynamodb:${operation}`, run, IncidentStoreError, `Incidents table ${operation} failed`);
  }

  /** The account's open incident, if any. */
  async openIncident(accountId: string): Promise<OpenMarker | undefined> {
    const out = await this.call('GetItem', () => this.ddb.send(new GetCommand({ TableName: this.table, Key: key.open(accountId), ConsistentRead: true })));
    return out.Item as OpenMarker | undefined;
  }

  /**
   * Open a new incident for the account unless one is open; otherwise attach the event to it.
   * The marker, the incident and its first event are written in one transaction.
   */
  async openOrAttach(input: ExecutionInput, event: IncidentEvent): Promise<OpenOrAttach> {
    const marker: OpenMarker = { incidentId: input.incidentId, accountId: input.accountId, openedAt: input.openedAt, executionInput: input };
    const opened = await conditionalWrite(
      'dynamodb:TransactWriteItems',
      () =>
        this.ddb.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: this.table, Item: { ...key.open(input.accountId), ...marker }, ConditionExpression: 'attribute_not_exists(pk)' } },
              {
                Put: {
                  TableName: this.table,
                  Item: { ...key.meta(input.incidentId), incidentId: input.incidentId, accountId: input.accountId, status: 'open', openedAt: input.openedAt, severity: input.trigger.severity },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              { Put: { TableName: this.table, Item: { ...key.event(input.incidentId, event.key), ...event } } },
            ],
          }),
        ),
      IncidentStoreError,
      `Could not open an incident for account ${input.accountId}`,
    );
    if (opened) return { outcome: 'opened', marker };
    const open = await this.openIncident(input.accountId);
    if (!open) {
      // The incident closed between our write and our read: the caller retries and opens a new one.
      throw new IncidentStoreError(`Incident for account ${input.accountId} closed while attaching an event; retry`);
    }
    const duplicate = !(await this.attach(open.incidentId, event));
    return { outcome: 'attached', marker: open, duplicate };
  }

  /** Attach an event to an incident. False when the event was already attached (redelivery). */
  attach(incidentId: string, event: IncidentEvent): Promise<boolean> {
    return conditionalWrite(
      'dynamodb:PutItem',
      () => this.ddb.send(new PutCommand({ TableName: this.table, Item: { ...key.event(incidentId, event.key), ...event }, ConditionExpression: 'attribute_not_exists(pk)' })),
      IncidentStoreError,
      `Could not attach event ${event.eventId} to ${incidentId}`,
    );
  }

  /** Record what intake has done for the open incident (execution started, alert sent). */
  async recordProgress(accountId: string, incidentId: string, progress: { executionArn?: string; alertedAt?: string }): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':id': incidentId };
    const sets: string[] = [];
    for (const [field, value] of Object.entries(progress)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    if (sets.length === 0) return;
    // A failed condition: closed meanwhile, nothing left to record on the marker.
    await conditionalWrite(
      'dynamodb:UpdateItem',
      () =>
        this.ddb.send(
          new UpdateCommand({
            TableName: this.table,
            Key: key.open(accountId),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: 'incidentId = :id',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        ),
      IncidentStoreError,
      `Could not record progress for ${incidentId}`,
    );
  }

  /** Close the incident: final status on META, and the account's open marker removed. */
  async close(accountId: string, incidentId: string, status: Exclude<IncidentStatus, 'open'>, closedAt: string): Promise<void> {
    await this.call('UpdateItem', () =>
      this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key.meta(incidentId),
          UpdateExpression: 'SET #status = :status, closedAt = :closedAt',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': status, ':closedAt': closedAt },
        }),
      ),
    );
    // A failed condition: already closed, or another incident is open now.
    await conditionalWrite(
      'dynamodb:DeleteItem',
      () => this.ddb.send(new DeleteCommand({ TableName: this.table, Key: key.open(accountId), ConditionExpression: 'incidentId = :id', ExpressionAttributeValues: { ':id': incidentId } })),
      IncidentStoreError,
      `Could not close ${incidentId}`,
    );
  }

  async status(incidentId: string): Promise<IncidentStatus | undefined> {
    const out = await this.call('GetItem', () => this.ddb.send(new GetCommand({ TableName: this.table, Key: key.meta(incidentId), ConsistentRead: true })));
    return (out.Item as { status?: IncidentStatus } | undefined)?.status;
  }

  /** Every event attached to the incident, all pages (a burst can pass DynamoDB's 1 MB page). */
  async events(incidentId: string): Promise<IncidentEvent[]> {
    return (await this.queryAll(`INCIDENT#${incidentId}`, 'EVENT#', true)) as unknown as IncidentEvent[];
  }

  private async queryAll(pk: string, skPrefix: string | undefined, consistent: boolean): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.call('Query', () =>
        this.ddb.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: skPrefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk, ...(skPrefix ? { ':prefix': skPrefix } : {}) },
            ConsistentRead: consistent,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** Record an AssumeRoot session this tool opened, so intake knows its events are ours. */
  async recordOwnSession(accountId: string, accessKeyId: string, expiresAt: Date): Promise<void> {
    await this.call('PutItem', () =>
      this.ddb.send(new PutCommand({ TableName: this.table, Item: { ...key.session(accountId, accessKeyId), ttl: Math.ceil(expiresAt.getTime() / 1000) + 86400 } })),
    );
  }

  async isOwnSession(accountId: string, accessKeyId: string): Promise<boolean> {
    const out = await this.call('GetItem', () => this.ddb.send(new GetCommand({ TableName: this.table, Key: key.session(accountId, accessKeyId) })));
    return out.Item !== undefined;
  }

  /** A canary arrived from this account and region (kept 30 days: an account gone longer is not watched). */
  async recordCanary(accountId: string, region: string, receivedAt: Date): Promise<void> {
    await this.call('PutItem', () =>
      this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...key.canary(accountId, region), accountId, region, receivedAt: receivedAt.toISOString(), ttl: Math.ceil(receivedAt.getTime() / 1000) + 30 * 86400 },
        }),
      ),
    );
  }

  /** Every canary arrival on record, all pages. */
  async canaryArrivals(): Promise<CanaryArrival[]> {
    const items = await this.queryAll(key.canary('', '').pk, undefined, false);
    return items.map((item) => ({ accountId: String(item['accountId']), region: String(item['region']), receivedAt: String(item['receivedAt']) }));
  }

  async pipelineHealth(): Promise<PipelineHealthState | undefined> {
    const out = await this.call('GetItem', () => this.ddb.send(new GetCommand({ TableName: this.table, Key: key.health, ConsistentRead: true })));
    return out.Item ? { firstCheckAt: String(out.Item['firstCheckAt']), digest: String(out.Item['digest']) } : undefined;
  }

  async savePipelineHealth(state: PipelineHealthState): Promise<void> {
    await this.call('PutItem', () => this.ddb.send(new PutCommand({ TableName: this.table, Item: { ...key.health, ...state } })));
  }
}
