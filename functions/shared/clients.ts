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
import { localContext } from './local-context';
import { type ResponderDirectory, SecretsManagerDirectory } from './responders';
import { type ObjectReader, type ObjectWriter, S3Reader, S3Writer } from './evidence';
import { type LimiterPool, RateLimiters, realTimer, type Timer } from './rate-limit';
import { SharedMeter } from './shared-meter';
import { OwnSessionStore, type RecordOwnSession } from './own-session-store';

/**
 * Client factories: explicit retry settings, one client per service and region per cold start.
 * Steps never construct clients; handlers take them from here and pass them in deps.
 * The drill swaps in its simulated services by running each invocation in a local context
 * (`local-context.ts`), so the deployed bundles run unchanged against them.
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
  /** The clock rate limits run on (the drill: its simulated clock, so nothing really waits). */
  timer?: Timer;
  /** "Now" for every step (the drill: its simulated clock). */
  clock?: Clock;
  /** The Lambda environment of this invocation (the drill hands each handler its configuration). */
  env?: Record<string, string>;
  /** The enrolled responders (the drill: its demo responders). */
  responders?: ResponderDirectory;
  /** The clock TOTP codes are checked against (default: `clock`). */
  totpClock?: Clock;
  /** Where embedded-metric lines go instead of stdout (the drill keeps them). */
  metricsSink?: (line: string) => void;
}

const cache = new Map<string, unknown>();
/** Per drill context: what a Lambda container would keep for its lifetime. */
const localCache = new WeakMap<LocalClients, Map<string, unknown>>();

function local(): LocalClients | undefined {
  return localContext<LocalClients>();
}

function onceLocal<T>(clients: LocalClients, key: string, make: () => T): T {
  let map = localCache.get(clients);
  if (!map) localCache.set(clients, (map = new Map()));
  if (!map.has(key)) map.set(key, make());
  return map.get(key) as T;
}

function once<T>(key: string, make: () => T): T {
  if (!cache.has(key)) cache.set(key, make());
  return cache.get(key) as T;
}

/** Where the embedded-metric lines go: stdout in Lambda (CloudWatch reads them from the log). */
export function metricsSink(): (line: string) => void {
  return local()?.metricsSink ?? ((line) => process.stdout.write(`${line}\n`));
}

export function documentClient(region?: string): DynamoDBDocumentClient {
  const drill = local();
  if (drill?.dynamodb) return drill.dynamodb;
  return once(`ddb:${region ?? ''}`, () =>
    DynamoDBDocumentClient.from(new DynamoDBClient({ ...RETRY, ...(region ? { region } : {}) }), {
      marshallOptions: { removeUndefinedValues: true },
    }),
  );
}

export function sfnClient(region?: string): SFNClient {
  const drill = local();
  if (drill?.sfn) return drill.sfn;
  return once(`sfn:${region ?? ''}`, () => new SFNClient({ ...RETRY, ...(region ? { region } : {}) }));
}

export function snsClient(region?: string): SNSClient {
  const drill = local();
  if (drill?.sns) return drill.sns;
  return once(`sns:${region ?? ''}`, () => new SNSClient({ ...RETRY, ...(region ? { region } : {}) }));
}

export function s3Client(region?: string): S3Client {
  const drill = local();
  if (drill?.s3) return drill.s3;
  return once(`s3:${region ?? ''}`, () => new S3Client({ ...RETRY, ...(region ? { region } : {}) }));
}

/**
 * Clients for the incident's target account: through `target.roleArn` when given (a member
 * account's read role), else with this function's own role. IAM, Account and Organizations are
 * served from us-east-1; STS is regional (AssumeRoot needs a regional endpoint).
 */
export function targetClients(target: Target): TargetClients {
  const drill = local();
  if (drill?.target) return drill.target(target);
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
  const drill = local();
  if (drill?.objectWriter) return drill.objectWriter(prefix);
  return new S3Writer(s3Client(), bucket, prefix);
}

/** The clock rate limits use. */
export function rateTimer(): Timer {
  return local()?.timer ?? realTimer;
}

/**
 * CloudTrail's 2 calls/s per account and region, shared by every invocation through the incidents
 * table (the drill, a single process, uses in-process limiters on its simulated clock).
 */
export function cloudTrailLimiters(table: string): LimiterPool {
  const drill = local();
  if (drill) return onceLocal(drill, 'cloudtrail-limiters', () => new RateLimiters(2, rateTimer()));
  return once(`cloudtrail-meter:${table}`, () => new SharedMeter(documentClient(), table, 2, realTimer));
}

/** Record the AssumeRoot sessions a step opens in the incidents table, so intake knows their events are ours. */
export function ownSessionRecorder(table: string): RecordOwnSession {
  const store = new OwnSessionStore(documentClient(), table);
  return (accountId, accessKeyId, expiresAt) => store.recordOwnSession(accountId, accessKeyId, expiresAt);
}

/** Read back objects under a prefix of the evidence bucket (or the drill's folder). */
export function objectReader(bucket: string, prefix: string): ObjectReader {
  const drill = local();
  if (drill?.objectReader) return drill.objectReader(prefix);
  return new S3Reader(s3Client(), bucket, prefix);
}

/** The enrolled responders, from the Secrets Manager secret that holds their TOTP secrets. */
export function respondersDirectory(secretId: string): ResponderDirectory {
  const drill = local();
  if (drill?.responders) return drill.responders;
  return once(`responders:${secretId}`, () => new SecretsManagerDirectory(new SecretsManagerClient({ ...RETRY }), secretId));
}

/** "Now" for the steps: the system clock in Lambda, the drill's simulated clock in a drill. */
export function clock(): Clock {
  return local()?.clock ?? systemClock;
}

export function totpClock(): Clock {
  const drill = local();
  return drill?.totpClock ?? drill?.clock ?? systemClock;
}
