import { DeleteCommand, GetCommand, PutCommand, ScanCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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
 *   ACCOUNT#<id> / LAST              -> the account's last ended incident (the next one links it)
 * An incident always ends: its report, its failure report, or a person (`incidents close`) closes it,
 * and intake releases a marker whose execution no longer runs.
 */
export interface OpenMarker {
  incidentId: string;
  accountId: string;
  openedAt: string;
  executionInput: ExecutionInput;
  executionArn?: string;
  alertedAt?: string;
}

/** The incident's META item: what `incidents list|show` prints. */
export interface IncidentMeta {
  incidentId: string;
  accountId: string;
  status: IncidentStatus;
  openedAt: string;
  severity?: string;
  closedAt?: string;
  previousIncidentId?: string;
  /** needs-attention: what is left for people. */
  openItems?: string[];
  /** Who or what ended it (the report, the failure report, a person) and why. */
  closedBy?: string;
  reason?: string;
}

/** How an incident ended, beyond its status. */
export interface Closing {
  openItems?: string[];
  closedBy?: string;
  reason?: string;
}

export type OpenOrAttach =
  | { outcome: 'opened'; marker: OpenMarker; released?: string }
  | { outcome: 'attached'; marker: OpenMarker; duplicate: boolean }
  /** The event opened an incident that has ended since (a late redelivery): nothing to do. */
  | { outcome: 'ended'; incidentId: string; status: IncidentStatus };

const key = {
  open: (accountId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: 'OPEN' }),
  meta: (incidentId: string) => ({ pk: `INCIDENT#${incidentId}`, sk: 'META' }),
  event: (incidentId: string, eventId: string) => ({ pk: `INCIDENT#${incidentId}`, sk: `EVENT#${eventId}` }),
  last: (accountId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: 'LAST' }),
};

/** IAM actions each use needs on the incidents table (serverless.yml grants follow these). */
export const incidentStorePermissions = {
  /** openIncident, openOrAttach (which may release a stale marker: close), attach, recordProgress: what intake does. */
  openOrAttach: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  /** status, events. */
  read: ['dynamodb:GetItem', 'dynamodb:Query'],
  close: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem'],
  /** incidents list (the command line only; no function scans). */
  list: ['dynamodb:Scan'],
} as const;

function markerOf(input: ExecutionInput): OpenMarker {
  return { incidentId: input.incidentId, accountId: input.accountId, openedAt: input.openedAt, executionInput: input };
}

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
   * The marker, the incident and its first event are written in one transaction. The new incident
   * names the account's last ended one (`previousIncidentId`).
   *
   * `executionEnded`, when given, is asked about an open marker that belongs to another incident and
   * has an execution (only then: one DescribeExecution per event while a marker exists). When that
   * execution no longer runs, the marker is stale (its end was never recorded): the old incident ends
   * as `failed`, the account is released, and the event opens a new incident linking the old one.
   */
  async openOrAttach(
    input: ExecutionInput,
    event: IncidentEvent,
    executionEnded?: (marker: OpenMarker) => Promise<string | undefined>,
  ): Promise<OpenOrAttach> {
    const last = input.previousIncidentId ? undefined : await this.lastIncident(input.accountId);
    const linked: ExecutionInput = last && last.incidentId !== input.incidentId ? { ...input, previousIncidentId: last.incidentId } : input;
    if (await this.tryOpen(linked, event)) return { outcome: 'opened', marker: markerOf(linked) };
    const open = await this.openIncident(input.accountId);
    if (!open) {
      // A redelivery of the event that opened an incident which has ended since: nothing new.
      const ended = await this.meta(input.incidentId);
      if (ended && ended.status !== 'open') return { outcome: 'ended', incidentId: input.incidentId, status: ended.status };
      // The incident closed between our write and our read: the caller retries and opens a new one.
      throw new IncidentStoreError(`Incident for account ${input.accountId} closed while attaching an event; retry`);
    }
    if (executionEnded && open.executionArn && open.incidentId !== input.incidentId) {
      const status = await executionEnded(open);
      if (status !== undefined) {
        await this.close(open.accountId, open.incidentId, 'failed', input.receivedAt ?? input.openedAt, {
          closedBy: 'intake',
          reason: `Its execution was no longer running (${status}) when a later root event arrived; nothing had recorded its end.`,
        });
        const next: ExecutionInput = { ...input, previousIncidentId: open.incidentId };
        if (await this.tryOpen(next, event)) return { outcome: 'opened', marker: markerOf(next), released: open.incidentId };
        // Another intake opened one first: attach to it.
        return this.openOrAttach(input, event);
      }
    }
    const duplicate = !(await this.attach(open.incidentId, event));
    return { outcome: 'attached', marker: open, duplicate };
  }

  /** The opening transaction: marker, META and first event, each only if absent. False when the account has an open incident. */
  private tryOpen(input: ExecutionInput, event: IncidentEvent): Promise<boolean> {
    return conditionalWrite(
      'dynamodb:TransactWriteItems',
      () =>
        this.ddb.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.table,
                  Item: { ...key.open(input.accountId), ...markerOf(input) },
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
                    ...(input.previousIncidentId ? { previousIncidentId: input.previousIncidentId } : {}),
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

  /**
   * End the incident: its final status on META (only while it is open: a second report of the same
   * end, or a person who closed it first, changes nothing), the account's open marker removed, and
   * the account's LAST pointer set so its next incident links this one. True when this call ended it.
   */
  async close(
    accountId: string,
    incidentId: string,
    status: Exclude<IncidentStatus, 'open'>,
    closedAt: string,
    closing: Closing = {},
    /** The status it must have now (a person closing a needs-attention incident: `needs-attention`). */
    from: IncidentStatus = 'open',
  ): Promise<boolean> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':status': status, ':closedAt': closedAt, ':open': from };
    const sets = ['#status = :status', 'closedAt = :closedAt'];
    for (const [field, value] of Object.entries(closing)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = field === 'openItems' ? (value as string[]).slice(0, 50) : value;
      sets.push(`#${field} = :${field}`);
    }
    const ended = await conditionalWrite(
      'dynamodb:UpdateItem',
      () =>
        this.ddb.send(
          new UpdateCommand({
            TableName: this.table,
            Key: key.meta(incidentId),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: '#status = :open',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        ),
      IncidentStoreError,
      `Could not close ${incidentId}`,
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
    if (ended) {
      await incidentsTableCall('PutItem', () =>
        this.ddb.send(new PutCommand({ TableName: this.table, Item: { ...key.last(accountId), incidentId, status, closedAt } })),
      );
    }
    return ended;
  }

  /** The account's last ended incident, if any (its next incident links it). */
  async lastIncident(accountId: string): Promise<{ incidentId: string; status: IncidentStatus; closedAt: string } | undefined> {
    const out = await incidentsTableCall('GetItem', () =>
      this.ddb.send(new GetCommand({ TableName: this.table, Key: key.last(accountId), ConsistentRead: true })),
    );
    return out.Item as { incidentId: string; status: IncidentStatus; closedAt: string } | undefined;
  }

  /** The incident's META item, if it exists. */
  async meta(incidentId: string): Promise<IncidentMeta | undefined> {
    const out = await incidentsTableCall('GetItem', () =>
      this.ddb.send(new GetCommand({ TableName: this.table, Key: key.meta(incidentId), ConsistentRead: true })),
    );
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, ...meta } = out.Item;
    return meta as IncidentMeta;
  }

  /** Every incident's META item, newest first (a Scan: for people at the command line, not for the workflow). */
  async list(): Promise<IncidentMeta[]> {
    const items: IncidentMeta[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await incidentsTableCall('Scan', () =>
        this.ddb.send(
          new ScanCommand({
            TableName: this.table,
            FilterExpression: 'sk = :meta AND begins_with(pk, :incident)',
            ExpressionAttributeValues: { ':meta': 'META', ':incident': 'INCIDENT#' },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const item of out.Items ?? []) {
        const { pk: _pk, sk: _sk, ...meta } = item;
        items.push(meta as IncidentMeta);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return items.sort((a, b) => b.openedAt.localeCompare(a.openedAt));
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
