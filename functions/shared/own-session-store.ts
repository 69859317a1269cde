import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type DocumentClient, incidentsTableCall } from './incidents-table';

/**
 * The AssumeRoot sessions this tool opened, by access key id, in the incidents table
 * (`ACCOUNT#<id> / SESSION#<keyId>`, kept a day past the session's end). The steps that open a
 * session record it; intake looks a root event's access key up, so the member-side events of our
 * own sessions are benign and those of any other session are not.
 */
export const ownSessionStorePermissions = {
  record: ['dynamodb:PutItem'],
  lookup: ['dynamodb:GetItem'],
} as const;

/** Records an AssumeRoot session this tool opened (`OwnSessionStore.recordOwnSession`), injected into the steps that open one. */
export type RecordOwnSession = (accountId: string, accessKeyId: string, expiresAt: Date) => Promise<void>;

const sessionKey = (accountId: string, accessKeyId: string) => ({ pk: `ACCOUNT#${accountId}`, sk: `SESSION#${accessKeyId}` });

export class OwnSessionStore {
  constructor(
    private readonly ddb: DocumentClient,
    private readonly table: string,
  ) {}

  /** Record an AssumeRoot session this tool opened, so intake knows its events are ours. */
  async recordOwnSession(accountId: string, accessKeyId: string, expiresAt: Date): Promise<void> {
    await incidentsTableCall('PutItem', () =>
      this.ddb.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...sessionKey(accountId, accessKeyId), ttl: Math.ceil(expiresAt.getTime() / 1000) + 86400 },
        }),
      ),
    );
  }

  async isOwnSession(accountId: string, accessKeyId: string): Promise<boolean> {
    const out = await incidentsTableCall('GetItem', () =>
      this.ddb.send(new GetCommand({ TableName: this.table, Key: sessionKey(accountId, accessKeyId) })),
    );
    return out.Item !== undefined;
  }
}
