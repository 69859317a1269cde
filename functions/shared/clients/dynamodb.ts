import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { rateTimer } from '../clients';
import { OwnSessionStore, type RecordOwnSession } from '../own-session-store';
import { type LimiterPool, RateLimiters, realTimer } from '../rate-limit';
import { SharedMeter } from '../shared-meter';
import { inRegion, local, once, onceLocal, RETRY } from './core';

/** DynamoDB (the incidents and approvals tables), through the document client. */
export function documentClient(region?: string): DynamoDBDocumentClient {
  const drill = local();
  if (drill?.dynamodb) return drill.dynamodb;
  return once(`ddb:${region ?? ''}`, () =>
    DynamoDBDocumentClient.from(new DynamoDBClient({ ...RETRY, ...inRegion(region) }), {
      marshallOptions: { removeUndefinedValues: true },
    }),
  );
}

/**
 * CloudTrail's 2 calls/s per account and region, shared by every invocation through the incidents
 * table (the drill, a single process, uses in-process limiters on its simulated clock).
 */
export function cloudTrailLimiters(table: string): LimiterPool {
  const drill = local();
  if (drill) return drill.cloudTrailLimiters ?? onceLocal(drill, 'cloudtrail-limiters', () => new RateLimiters(2, rateTimer()));
  return once(`cloudtrail-meter:${table}`, () => new SharedMeter(documentClient(), table, 2, realTimer));
}

/** Record the AssumeRoot sessions a step opens in the incidents table, so intake knows their events are ours. */
export function ownSessionRecorder(table: string): RecordOwnSession {
  const store = new OwnSessionStore(documentClient(), table);
  return (accountId, accessKeyId, expiresAt) => store.recordOwnSession(accountId, accessKeyId, expiresAt);
}
