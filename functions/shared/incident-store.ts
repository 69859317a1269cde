import { DeleteCommand, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './conditional-write';
import { IncidentStoreError } from './errors';
import { type DocumentClient, incidentsTableCall, queryAll } from './incidents-table';
import type { ExecutionInput, IncidentEvent, IncidentStatus } from './schemas';

/**
 * The incidents, in the incidents table (incidents-table.ts has the whole layout). One open incident
 * per account, kept by a marker item that is written only if absent (the conditional write is what
 * makes concurrent intakes agree):
 *   ACCOUNT#<id> / OPEN              -> the open incident, its execution input, what was done for it
 *   INCIDENT#<id> / META             -> status, account, opened / closed times
 *   INCIDENT#<id> / EVENT#<key>      -> each root event attached (deduplicated: a redelivery has the same key)
 */
export interface OpenMarker {
  incidentId: string;
  accountId: string;
  openedAt: string;
  executionInput: ExecutionInput;
  executionArn?: string;
  alertedAt?: string;
}

export type OpenOrAttach = { outcome: 'opened'; marker: OpenMarker } | { outcome: 'attached'; marker: OpenMarker; duplicate: boolean };

const key = {
  open: (accountId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: 'OPEN' }),
  meta: (incidentId: string) => ({ pk: `INCIDENT#${incidentId}`, sk: 'META' }),
  event: (incidentId: string, eventId: string) => ({ pk: `INCIDENT#${incidentId}`, sk: `EVENT#${eventId}` }),
};

/** IAM actions each use needs on the incidents table (serverless.yml grants follow these). */
export const incidentStorePermissions = {
  /** openIncident, openOrAttach, attach, recordProgress: what intake does. */
  openOrAttach: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  /** status, events. */
  read: ['dynamodb:GetItem', 'dynamodb:Query'],
  close: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
} as const;

export class IncidentStore {
  constructor(
    private readonly ddb: DocumentClient,
    private readonly table: string,
  ) {}

  /** The account's open incident, if any. */
  async openIncident(accountId: string): Promise<OpenMarker | undefined> {
    const out = await incidentsTableCall('GetItem', () =>
      this.ddb.send(new GetCommand({ TableName: this.table, Key: key.open(accountId), ConsistentRead: true })),
    );
    return out.Item as OpenMarker | undefined;
  }

  /**
   * Open a new incident for the account unless one is open; otherwise attach the event to it.
   * The marker, the incident and its first event are written in one transaction.
   */
  async openOrAttach(input: ExecutionInput, event: IncidentEvent): Promise<OpenOrAttach> {
    const marker: OpenMarker = {
      incidentId: input.incidentId,
      accountId: input.accountId,
      openedAt: input.openedAt,
      executionInput: input,
    };
    const opened = await conditionalWrite(
      'dynamodb:TransactWriteItems',
      () =>
        this.ddb.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.table,
                  Item: { ...key.open(input.accountId), ...marker },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Put: {
                  TableName: this.table,
                  Item: {
                    ...key.meta(input.incidentId),
                    incidentId: input.incidentId,
                    accountId: input.accountId,
                    status: 'open',
                    openedAt: input.openedAt,
                    severity: input.trigger.severity,
                  },
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
      () =>
        this.ddb.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...key.event(incidentId, event.key), ...event },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
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
    await incidentsTableCall('UpdateItem', () =>
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
      () =>
        this.ddb.send(
          new DeleteCommand({
            TableName: this.table,
            Key: key.open(accountId),
            ConditionExpression: 'incidentId = :id',
            ExpressionAttributeValues: { ':id': incidentId },
          }),
        ),
      IncidentStoreError,
      `Could not close ${incidentId}`,
    );
  }

  async status(incidentId: string): Promise<IncidentStatus | undefined> {
    const out = await incidentsTableCall('GetItem', () =>
      this.ddb.send(new GetCommand({ TableName: this.table, Key: key.meta(incidentId), ConsistentRead: true })),
    );
    return (out.Item as { status?: IncidentStatus } | undefined)?.status;
  }

  /** Every event attached to the incident, all pages (a burst can pass DynamoDB's 1 MB page). */
  async events(incidentId: string): Promise<IncidentEvent[]> {
    return (await queryAll(this.ddb, this.table, `INCIDENT#${incidentId}`, 'EVENT#', true)) as unknown as IncidentEvent[];
  }
}
