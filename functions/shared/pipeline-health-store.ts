import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type DocumentClient, incidentsTableCall, queryAll } from './incidents-table';

/**
 * Whether root events still reach us, in the incidents table: when each account and region's
 * canary last arrived (`PIPELINE#CANARY / <account>#<region>`, written by intake) and what the last
 * pipeline check reported (`PIPELINE#HEALTH / STATE`, so an alert goes out on a change, not every run).
 */
export const pipelineHealthStorePermissions = {
  recordCanary: ['dynamodb:PutItem'],
  check: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem'],
} as const;

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

const key = {
  canary: (accountId: string, region: string) => ({ pk: 'PIPELINE#CANARY', sk: `${accountId}#${region}` }),
  health: { pk: 'PIPELINE#HEALTH', sk: 'STATE' },
};

export class PipelineHealthStore {
  constructor(
    private readonly ddb: DocumentClient,
    private readonly table: string,
  ) {}

  /** A canary arrived from this account and region (kept 30 days: an account gone longer is not watched). */
  async recordCanary(accountId: string, region: string, receivedAt: Date): Promise<void> {
    await incidentsTableCall('PutItem', () =>
      this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...key.canary(accountId, region),
            accountId,
            region,
            receivedAt: receivedAt.toISOString(),
            ttl: Math.ceil(receivedAt.getTime() / 1000) + 30 * 86400,
          },
        }),
      ),
    );
  }

  /** Every canary arrival on record, all pages. */
  async canaryArrivals(): Promise<CanaryArrival[]> {
    const items = await queryAll(this.ddb, this.table, key.canary('', '').pk, undefined, false);
    return items.map((item) => ({
      accountId: String(item['accountId']),
      region: String(item['region']),
      receivedAt: String(item['receivedAt']),
    }));
  }

  async pipelineHealth(): Promise<PipelineHealthState | undefined> {
    const out = await incidentsTableCall('GetItem', () =>
      this.ddb.send(new GetCommand({ TableName: this.table, Key: key.health, ConsistentRead: true })),
    );
    return out.Item ? { firstCheckAt: String(out.Item['firstCheckAt']), digest: String(out.Item['digest']) } : undefined;
  }

  async savePipelineHealth(state: PipelineHealthState): Promise<void> {
    await incidentsTableCall('PutItem', () => this.ddb.send(new PutCommand({ TableName: this.table, Item: { ...key.health, ...state } })));
  }
}
