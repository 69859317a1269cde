import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { IncidentStoreError, storeCall } from './errors';

/**
 * The incidents table, shared by three stores with one concern each (one table, so one DynamoDB
 * resource to deploy, grant and back up):
 *   incident-store.ts        ACCOUNT#<id> / OPEN              -> the open incident, its execution input, what was done for it
 *                            INCIDENT#<id> / META             -> status, account, opened / closed times
 *                            INCIDENT#<id> / EVENT#<key>      -> each root event attached (deduplicated: a redelivery has the same key)
 *   own-session-store.ts     ACCOUNT#<id> / SESSION#<keyId>   -> this tool's own AssumeRoot sessions (TTL)
 *   pipeline-health-store.ts PIPELINE#CANARY / <account>#<region> -> when that account and region's canary last arrived (TTL)
 *                            PIPELINE#HEALTH / STATE          -> what the last pipeline check reported (alerts go out on change)
 *   shared-meter.ts          METER#<key> / SLOT               -> the shared CloudTrail rate meter's next free slot (TTL)
 *   alert-digest-store.ts    DIGEST / <incident id>           -> later root events counted by name for the alert digest
 *                            ALERTED / <key>#<interval>       -> a refused event's one-off alert, once per interval (TTL)
 * A failure is a TransientAwsError (the state machine retries) or an IncidentStoreError.
 */
export type DocumentClient = Pick<DynamoDBDocumentClient, 'send'>;

/** One call on the incidents table, its failure mapped by storeCall. */
export function incidentsTableCall<T>(operation: string, run: () => Promise<T>): Promise<T> {
  return storeCall(`dynamodb:${operation}`, run, IncidentStoreError, `Incidents table ${operation} failed`);
}

/** Every item under a partition key (and sort key prefix), all pages: a burst can pass DynamoDB's 1 MB page. */
export async function queryAll(
  ddb: DocumentClient,
  table: string,
  pk: string,
  skPrefix: string | undefined,
  consistent: boolean,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await incidentsTableCall('Query', () =>
      ddb.send(
        new QueryCommand({
          TableName: table,
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
