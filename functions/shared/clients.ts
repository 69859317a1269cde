import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { AccountClient } from '@aws-sdk/client-account';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { RAMClient } from '@aws-sdk/client-ram';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { S3ControlClient } from '@aws-sdk/client-s3-control';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { GuardDutyClient } from '@aws-sdk/client-guardduty';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { S3Client } from '@aws-sdk/client-s3';
import type { STSClient } from '@aws-sdk/client-sts';
import { type Clock, systemClock } from './clock';
import { local } from './clients/core';
import type { ResponderDirectory } from './responders';
import type { ObjectReader, ObjectWriter } from './evidence';
import { type LimiterPool, realTimer, type Timer } from './rate-limit';

/**
 * What the client factories give the steps, and the per-invocation things that are not AWS clients
 * (clock, rate-limit timer, metrics sink). The factories themselves are one small module per service
 * in `clients/` (`clients/dynamodb.ts`, `clients/iam.ts`, ...), so a handler imports only the services
 * its step uses and its bundle carries only those SDK clients. Steps never construct clients;
 * handlers take them from there and pass them in deps.
 * The drill swaps in its simulated services by running each invocation in a local context
 * (`local-context.ts`), so the deployed bundles run unchanged against them.
 *
 * Only types come from the SDK here: importing this module adds no SDK client to a bundle.
 */

/** Temporary credentials, e.g. from an AssumeRoot session. */
export interface TempCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/**
 * The clients a step uses on the incident's target account. A handler builds them with
 * `targetClients(target, { iam, sts, ... })` (`clients/target.ts`) from the services its step calls.
 */
export interface TargetClients {
  iam(credentials?: TempCredentials): Pick<IAMClient, 'send'>;
  sts(region: string): Pick<STSClient, 'send'>;
  cloudtrail(region: string): Pick<CloudTrailClient, 'send'>;
  account(): Pick<AccountClient, 'send'>;
  organizations(): Pick<OrganizationsClient, 'send'>;
  guardduty(region: string): Pick<GuardDutyClient, 'send'>;
  events(region: string): Pick<EventBridgeClient, 'send'>;
  ec2(region: string): Pick<EC2Client, 'send'>;
  /** The target account's own buckets (not the responder's evidence bucket). */
  s3(region: string): Pick<S3Client, 'send'>;
  /** Account-level S3 settings (the account's public access block). */
  s3control(region: string): Pick<S3ControlClient, 'send'>;
  rds(region: string): Pick<RDSClient, 'send'>;
  kms(region: string): Pick<KMSClient, 'send'>;
  lambda(region: string): Pick<LambdaClient, 'send'>;
  ram(region: string): Pick<RAMClient, 'send'>;
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
  /** CloudTrail's 2 calls/s, shared by every function as the deployed SharedMeter is (each bundle has its own module state). */
  cloudTrailLimiters?: LimiterPool;
}

/** Where the embedded-metric lines go: stdout in Lambda (CloudWatch reads them from the log). */
export function metricsSink(): (line: string) => void {
  return local()?.metricsSink ?? ((line) => process.stdout.write(`${line}\n`));
}

/** The clock rate limits use. */
export function rateTimer(): Timer {
  return local()?.timer ?? realTimer;
}

/** "Now" for the steps: the system clock in Lambda, the drill's simulated clock in a drill. */
export function clock(): Clock {
  return local()?.clock ?? systemClock;
}

export function totpClock(): Clock {
  const drill = local();
  return drill?.totpClock ?? drill?.clock ?? systemClock;
}
