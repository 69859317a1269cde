import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './conditional-write';
import { IncidentStoreError, storeCall } from './errors';
import type { Limiter, LimiterPool, Timer } from './rate-limit';

/**
 * A rate limit shared by every Lambda invocation, through the incidents table: one item per key
 * (account and region) holds the next free slot. A caller claims the slot with a conditional write
 * on the item's version, then sleeps until it. Concurrent incidents and concurrent invocations
 * therefore share CloudTrail's 2 calls/s per account and region instead of each using it whole.
 */
export const sharedMeterPermissions = ['dynamodb:GetItem', 'dynamodb:PutItem'] as const;

export class SharedMeter implements LimiterPool {
  private readonly spacing: number;

  constructor(
    private readonly ddb: Pick<DynamoDBDocumentClient, 'send'>,
    private readonly table: string,
    ratePerSecond: number,
    private readonly timer: Timer,
  ) {
    this.spacing = 1000 / ratePerSecond;
  }

  for(key: string): Limiter {
    return { take: () => this.take(key) };
  }

  private async take(key: string): Promise<void> {
    const itemKey = { pk: `METER#${key}`, sk: 'SLOT' };
    for (let attempt = 0; attempt < 50; attempt++) {
      const current = (
        await storeCall(
          'dynamodb:GetItem',
          () => this.ddb.send(new GetCommand({ TableName: this.table, Key: itemKey, ConsistentRead: true })),
          IncidentStoreError,
          `Rate meter ${key}`,
        )
      ).Item as { next: number; version: number } | undefined;
      const now = this.timer.now();
      const slot = Math.max(now, current?.next ?? 0);
      const taken = await conditionalWrite(
        'dynamodb:PutItem',
        () =>
          this.ddb.send(
            new PutCommand({
              TableName: this.table,
              Item: {
                ...itemKey,
                next: slot + this.spacing,
                version: (current?.version ?? 0) + 1,
                ttl: Math.ceil((slot + 3_600_000) / 1000),
              },
              ...(current
                ? { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': current.version } }
                : { ConditionExpression: 'attribute_not_exists(pk)' }),
            }),
          ),
        IncidentStoreError,
        `Rate meter ${key}`,
      );
      if (!taken) continue; // someone else took that slot
      if (slot > now) await this.timer.sleep(slot - now);
      return;
    }
    throw new IncidentStoreError(`Rate meter ${key}: too much contention`);
  }
}
