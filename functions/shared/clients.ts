import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';

/**
 * Client factories: explicit retry settings, one client per service and region per cold start.
 * Steps never construct clients; handlers take them from here and pass them in deps.
 */
const RETRY = { maxAttempts: 4, retryMode: 'adaptive' } as const;

const cache = new Map<string, unknown>();

function once<T>(key: string, make: () => T): T {
  if (!cache.has(key)) cache.set(key, make());
  return cache.get(key) as T;
}

export function documentClient(region?: string): DynamoDBDocumentClient {
  return once(`ddb:${region ?? ''}`, () =>
    DynamoDBDocumentClient.from(new DynamoDBClient({ ...RETRY, ...(region ? { region } : {}) }), {
      marshallOptions: { removeUndefinedValues: true },
    }),
  );
}

export function sfnClient(region?: string): SFNClient {
  return once(`sfn:${region ?? ''}`, () => new SFNClient({ ...RETRY, ...(region ? { region } : {}) }));
}

export function snsClient(region?: string): SNSClient {
  return once(`sns:${region ?? ''}`, () => new SNSClient({ ...RETRY, ...(region ? { region } : {}) }));
}
