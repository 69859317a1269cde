import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { AccountClient } from '@aws-sdk/client-account';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { IAMClient } from '@aws-sdk/client-iam';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Clock, systemClock } from './clock';
import { type ResponderDirectory, SecretsManagerDirectory } from './responders';
import { LocalDirReader, type ObjectReader, type ObjectWriter, S3Reader, S3Writer } from './evidence';
import { type LimiterPool, RateLimiters, realTimer, type Timer } from './rate-limit';
import { SharedMeter } from './shared-meter';
import { IncidentStore, type RecordOwnSession } from './incident-store';

/**
 * Client factories: explicit retry settings, one client per service and region per cold start.
 * Steps never construct clients; handlers take them from here and pass them in deps.
 * The drill swaps in its simulated services with `useLocalClients`, so the deployed handler
 * modules run unchanged against them.
 */
const RETRY = { maxAttempts: 4, retryMode: 'adaptive' } as const;

/** Temporary credentials, e.g. from an AssumeRoot session. */
export interface TempCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** The clients a step uses on the incident's target account. */
export interface TargetClients {
  iam(credentials?: TempCredentials): Pick<IAMClient, 'send'>;
  sts(region: string): Pick<STSClient, 'send'>;
  cloudtrail(region: string): Pick<CloudTrailClient, 'send'>;
  account(): Pick<AccountClient, 'send'>;
  organizations(): Pick<OrganizationsClient, 'send'>;
  guardduty(region: string): Pick<GuardDutyClient, 'send'>;
  events(region: string): Pick<EventBridgeClient, 'send'>;
}

export interface Target {
  accountId: string;
  /** A role in the target account to act through (organization mode); none: this function's own role. */
  roleArn?: string;
}

export interface LocalClients {
  dynamodb?: DynamoDBDocumentClient;
  sfn?: SFNClient;
  sns?: SNSClient;
  s3?: S3Client;
  target?: (target: Target) => TargetClients;
  /** Where evidence and reports go instead of S3 (the drill: a folder). */
  objectWriter?: (prefix: string) => ObjectWriter;
  objectReader?: (prefix: string) => ObjectReader;
  /** The clock rate limits run on (the drill: a simulated one, so nothing really waits). */
  timer?: Timer;
  /** The enrolled responders (the drill: its demo responders). */
  responders?: ResponderDirectory;
  /** The clock TOTP codes are checked against (the drill: one that moves 30 s per decision). */
  totpClock?: Clock;
  /** Where embedded-metric lines go instead of stdout (the drill keeps them). */
  metricsSink?: (line: string) => void;
}

const cache = new Map<string, unknown>();
let local: LocalClients | undefined;

function once<T>(key: string, make: () => T): T {
  if (!cache.has(key)) cache.set(key, make());
  return cache.get(key) as T;
}

/** Where the embedded-metric lines go: stdout in Lambda (CloudWatch reads them from the log). */
export function metricsSink(): (line: string) => void {
  return local?.metricsSink ?? ((line) => process.stdout.write(`${line}\n`));
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

export function s3Client(region?: string): S3Client {
  if (local?.s3) return local.s3;
  return once(`s3:${region ?? ''}`, () => new S3Client({ ...RETRY, ...(region ? { region } : {}) }));
}

/**
 * Clients for the incident's target account: through `target.roleArn` when given (a member
 * account's read role), else with this function's own role. IAM, Account and Organizations are
 * served from us-east-1; STS is regional (AssumeRoot needs a regional endpoint).
 */
export function targetClients(target: Target): TargetClients {
  if (local?.target) return local.target(target);
  const credentials = target.roleArn ? fromTemporaryCredentials({ params: { RoleArn: target.roleArn, RoleSessionName: 'root-responder', DurationSeconds: 900 } }) : undefined;
  const base = (region: string) => ({ ...RETRY, region, ...(credentials ? { credentials } : {}) });
  const key = (service: string, region: string) => `${service}:${target.accountId}:${target.roleArn ?? ''}:${region}`;
  return {
    iam: (session) => (session ? new IAMClient({ ...RETRY, region: 'us-east-1', credentials: session }) : once(key('iam', 'us-east-1'), () => new IAMClient(base('us-east-1')))),
    sts: (region) => once(key('sts', region), () => new STSClient(base(region))),
    cloudtrail: (region) => once(key('cloudtrail', region), () => new CloudTrailClient(base(region))),
    account: () => once(key('account', 'us-east-1'), () => new AccountClient(base('us-east-1'))),
    organizations: () => once(key('organizations', 'us-east-1'), () => new OrganizationsClient(base('us-east-1'))),
    guardduty: (region) => once(key('guardduty', region), () => new GuardDutyClient(base(region))),
    events: (region) => once(key('events', region), () => new EventBridgeClient(base(region))),
  };
}

/** Evidence and report objects under a prefix of the evidence bucket (or the drill's folder). */
export function objectWriter(bucket: string, prefix: string): ObjectWriter {
  if (local?.objectWriter) return local.objectWriter(prefix);
  return new S3Writer(s3Client(), bucket, prefix);
}

/** The clock rate limits use. */
export function rateTimer(): Timer {
  return local?.timer ?? realTimer;
}

/**
 * CloudTrail's 2 calls/s per account and region, shared by every invocation through the incidents
 * table (the drill, a single process, uses in-process limiters on its simulated clock).
 */
export function cloudTrailLimiters(table: string): LimiterPool {
  if (local) return once('cloudtrail-limiters', () => new RateLimiters(2, rateTimer()));
  return once(`cloudtrail-meter:${table}`, () => new SharedMeter(documentClient(), table, 2, realTimer));
}

/** Record the AssumeRoot sessions a step opens in the incidents table, so intake knows their events are ours. */
export function ownSessionRecorder(table: string): RecordOwnSession {
  const store = new IncidentStore(documentClient(), table);
  return (accountId, accessKeyId, expiresAt) => store.recordOwnSession(accountId, accessKeyId, expiresAt);
}

/** Read back objects under a prefix of the evidence bucket (or the drill's folder). */
export function objectReader(bucket: string, prefix: string): ObjectReader {
  if (local?.objectReader) return local.objectReader(prefix);
  return new S3Reader(s3Client(), bucket, prefix);
}
export { LocalDirReader };

/** The enrolled responders, from the Secrets Manager secret that holds their TOTP secrets. */
export function respondersDirectory(secretId: string): ResponderDirectory {
  if (local?.responders) return local.responders;
  return once(`responders:${secretId}`, () => new SecretsManagerDirectory(new SecretsManagerClient({ ...RETRY }), secretId));
}

export function totpClock(): Clock {
  return local?.totpClock ?? systemClock;
}
