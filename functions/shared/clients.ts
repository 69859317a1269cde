import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';

/**
 * Client factories: explicit retry settings, one client per service and region per cold start.
 * Steps never construct clients; handlers take them from here and pass them in deps.
 * The drill swaps in its simulated services with `useLocalClients`, so the deployed handler
 * modules run unchanged against them.
 */
const RETRY = { maxAttempts: 4, retryMode: 'adaptive' } as const;

export interface LocalClients {
  dynamodb?: DynamoDBDocumentClient;
  sfn?: SFNClient;
  sns?: SNSClient;
}

const cache = new Map<string, unknown>();
let local: LocalClients | undefined;

function once<T>(key: string, make: () => T): T {
  if (!cache.has(key)) cache.set(key, make());
  return cache.get(key) as T;
}

/** Route every factory to local stand-ins (the drill), or back to AWS with `undefined`. */
export function useLocalClients(clients: LocalClients | undefined): void {
  local = clients;
  cache.clear();
}

export function documentClient(region?: string): DynamoDBDocumentClient {
  if (local?.dynamodb) return local.dynamodb;
  return once(`ddb:${region ?? ''}`, () =>
    DynamoDBDocumentClient.from(new DynamoDBClient({ ...RETRY, ...(region ? { region } : {}) }), {
      marshallOptions: { removeUndefinedValues: true },
    }),
  );
}

export function sfnClient(region?: string): SFNClient {
  if (local?.sfn) return local.sfn;
  return once(`sfn:${region ?? ''}`, () => new SFNClient({ ...RETRY, ...(region ? { region } : {}) }));
}

export function snsClient(region?: string): SNSClient {
  if (local?.sns) return local.sns;
  return once(`sns:${region ?? ''}`, () => new SNSClient({ ...RETRY, ...(region ? { region } : {}) }));
}
