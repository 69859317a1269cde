import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './conditional-write';
import { IncidentStoreError } from './errors';
import { type DocumentClient, incidentsTableCall, queryAll } from './incidents-table';

/**
 * Alert volume, in the incidents table. Intake alerts the first root use of an incident at once;
 * every later event of it is only counted here, and the scheduled digest (functions/send-alert-digest)
 * sends one summary per subject per interval with what is new since the last one:
 *   DIGEST / <subject>   -> accountId, title, incidentId (an incident's digest), `total`, `readOnly`,
 *                           one `n:<eventName>` count per event name (atomic ADD, so concurrent intakes
 *                           never lose a count), and what the last digest reported (`sentTotal`,
 *                           `sentReadOnly`, `s:<eventName>`)
 *   ALERTED / <key>      -> a one-off alert already sent in this interval (TTL): refused events alert
 *                           once per kind and accounts per interval, then are counted like the rest
 * A subject is an incident id, or `REFUSED#<reason>#<accounts>` for the refused events of one kind.
 */
export const alertDigestStorePermissions = {
  /** count, claimAlert, releaseAlert: what intake does. */
  count: ['dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
  /** pending, markSent, forget: what the digest does. */
  digest: ['dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
} as const;

/** What one event adds to a digest. */
export interface DigestCount {
  subject: string;
  accountId: string;
  title: string;
  incidentId?: string;
  eventName: string;
  readOnly: boolean;
  at: Date;
}

/** One digest item as the digest reads it: totals and per-event-name counts, and what was already sent. */
export interface DigestItem {
  subject: string;
  accountId: string;
  title: string;
  incidentId?: string;
  total: number;
  readOnly: number;
  sentTotal: number;
  sentReadOnly: number;
  firstAt?: string;
  lastAt?: string;
  counts: Record<string, number>;
  sent: Record<string, number>;
}

const PK = 'DIGEST';
const COUNT_PREFIX = 'n:';
const SENT_PREFIX = 's:';
/** An event name as it may be an attribute name: API names are letters and digits; anything else is counted as "other". */
const EVENT_NAME = /^[A-Za-z0-9_]{1,64}$/;

export function digestEventName(name: string): string {
  return EVENT_NAME.test(name) ? name : 'other';
}

export class AlertDigestStore {
  constructor(
    private readonly ddb: DocumentClient,
    private readonly table: string,
  ) {}

  /** Count one event on its subject's digest (the item is created by the first count). */
  async count(c: DigestCount): Promise<void> {
    await incidentsTableCall('UpdateItem', () =>
      this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: PK, sk: c.subject },
          UpdateExpression:
            'SET accountId = :account, title = :title, firstAt = if_not_exists(firstAt, :at), lastAt = :at' +
            (c.incidentId ? ', incidentId = :incident' : '') +
            ' ADD #name :one, #total :one, #readOnly :ro',
          ExpressionAttributeNames: {
            '#name': `${COUNT_PREFIX}${digestEventName(c.eventName)}`,
            '#total': 'total',
            '#readOnly': 'readOnly',
          },
          ExpressionAttributeValues: {
            ':account': c.accountId,
            ':title': c.title,
            ':at': c.at.toISOString(),
            ':one': 1,
            ':ro': c.readOnly ? 1 : 0,
            ...(c.incidentId ? { ':incident': c.incidentId } : {}),
          },
        }),
      ),
    );
  }

  /**
   * Claim a one-off alert for `key` in the interval that starts at `windowStart`: true for the first
   * caller only (a conditional write), so a flood of refused events sends one email per interval.
   */
  claimAlert(key: string, windowStart: Date, intervalSeconds: number): Promise<boolean> {
    const sk = `${key}#${windowStart.toISOString()}`;
    return conditionalWrite(
      'dynamodb:PutItem',
      () =>
        this.ddb.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: 'ALERTED', sk, ttl: Math.ceil(windowStart.getTime() / 1000) + 2 * intervalSeconds },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      IncidentStoreError,
      `Could not record the alert ${key}`,
    );
  }

  /** Give a claimed alert back (its publish failed): the retry of the same event claims it again. */
  async releaseAlert(key: string, windowStart: Date): Promise<void> {
    await incidentsTableCall('DeleteItem', () =>
      this.ddb.send(new DeleteCommand({ TableName: this.table, Key: { pk: 'ALERTED', sk: `${key}#${windowStart.toISOString()}` } })),
    );
  }

  /** Every digest item, all pages. */
  async all(): Promise<DigestItem[]> {
    const items = await queryAll(this.ddb, this.table, PK, undefined, true);
    return items.map((item) => {
      const counts: Record<string, number> = {};
      const sent: Record<string, number> = {};
      for (const [name, value] of Object.entries(item)) {
        if (name.startsWith(COUNT_PREFIX)) counts[name.slice(COUNT_PREFIX.length)] = Number(value);
        if (name.startsWith(SENT_PREFIX)) sent[name.slice(SENT_PREFIX.length)] = Number(value);
      }
      return {
        subject: String(item['sk']),
        accountId: typeof item['accountId'] === 'string' ? item['accountId'] : 'unknown-account',
        title: typeof item['title'] === 'string' ? item['title'] : String(item['sk']),
        ...(typeof item['incidentId'] === 'string' ? { incidentId: item['incidentId'] } : {}),
        total: Number(item['total'] ?? 0),
        readOnly: Number(item['readOnly'] ?? 0),
        sentTotal: Number(item['sentTotal'] ?? 0),
        sentReadOnly: Number(item['sentReadOnly'] ?? 0),
        ...(typeof item['firstAt'] === 'string' ? { firstAt: item['firstAt'] } : {}),
        ...(typeof item['lastAt'] === 'string' ? { lastAt: item['lastAt'] } : {}),
        counts,
        sent,
      };
    });
  }

  /** Record what a digest reported: the counts as read (events counted since then go in the next one). */
  async markSent(item: DigestItem, at: Date): Promise<void> {
    const names: Record<string, string> = { '#sentTotal': 'sentTotal', '#sentReadOnly': 'sentReadOnly', '#sentAt': 'sentAt' };
    const values: Record<string, unknown> = { ':total': item.total, ':ro': item.readOnly, ':at': at.toISOString() };
    const sets = ['#sentTotal = :total', '#sentReadOnly = :ro', '#sentAt = :at'];
    Object.entries(item.counts).forEach(([name, count], i) => {
      names[`#s${i}`] = `${SENT_PREFIX}${name}`;
      values[`:s${i}`] = count;
      sets.push(`#s${i} = :s${i}`);
    });
    await incidentsTableCall('UpdateItem', () =>
      this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: PK, sk: item.subject },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  /**
   * Drop a digest with nothing new, unless an event was counted since it was read (the condition):
   * a later event then starts a fresh item, whose counts are all new.
   */
  forget(item: DigestItem): Promise<boolean> {
    return conditionalWrite(
      'dynamodb:DeleteItem',
      () =>
        this.ddb.send(
          new DeleteCommand({
            TableName: this.table,
            Key: { pk: PK, sk: item.subject },
            ConditionExpression: '#total = :total',
            ExpressionAttributeNames: { '#total': 'total' },
            ExpressionAttributeValues: { ':total': item.total },
          }),
        ),
      IncidentStoreError,
      `Could not drop the digest ${item.subject}`,
    );
  }
}
