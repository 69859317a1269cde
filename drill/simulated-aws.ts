import { reviewCall } from './simulated-review';
import { AsyncLocalStorage } from 'node:async_hooks';
import { MEMBER_READ_ROLE, MEMBER_WRITE_ROLE } from '#infra/names.cjs';
import { randomBytes } from 'node:crypto';
import type { JsonObject } from '#shared/cloudtrail';
import { realTimer, type Timer } from '#shared/rate-limit';
import type { Target, TargetClients } from '#shared/clients';
import * as accountSdk from '@aws-sdk/client-account';
import * as cloudtrailSdk from '@aws-sdk/client-cloudtrail';
import * as eventbridgeSdk from '@aws-sdk/client-eventbridge';
import * as ec2Sdk from '@aws-sdk/client-ec2';
import * as kmsSdk from '@aws-sdk/client-kms';
import * as lambdaSdk from '@aws-sdk/client-lambda';
import * as ramSdk from '@aws-sdk/client-ram';
import * as rdsSdk from '@aws-sdk/client-rds';
import * as s3Sdk from '@aws-sdk/client-s3';
import * as s3controlSdk from '@aws-sdk/client-s3-control';
import * as guarddutySdk from '@aws-sdk/client-guardduty';
import * as iamSdk from '@aws-sdk/client-iam';
import * as organizationsSdk from '@aws-sdk/client-organizations';
import * as stsSdk from '@aws-sdk/client-sts';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { seededRandom } from './flaky';
import { RDS_SNAPSHOT_COMMANDS, SimulatedRdsSnapshots } from './simulated-snapshots';
import { s3CommandName, S3_COMMAND_ACTIONS, SimulatedS3Account } from './simulated-s3-account';
import { applyPolicyRecord, policyCall, type SimPolicies } from './simulated-policies';
import { FORWARDED_RULES, forwardingRuleName } from '#shared/forwarding';
import {
  loadRootTaskPolicy,
  ROOT_TASK_POLICY_NAMES,
  rootTaskSessionDecision,
  type PolicyDocument,
  type PolicyRequest,
  type RootTaskPolicyName,
} from './iam-policy';
import { asText } from '#shared/text';
import { applyGrantsRecord, GRANTS_COMMAND_ACTIONS, grantsCall, type SimGrantsRegion } from './simulated-grants';

/** The member-account roles `.serverless/member-roles.json` deploys. */
const MEMBER_ROLES = [MEMBER_READ_ROLE, MEMBER_WRITE_ROLE];

/**
 * A simulated AWS: accounts, an optional organization, root credentials, contacts, trails,
 * detectors and per-region CloudTrail events. Clients made here answer the SDK v3 commands the
 * steps send (matched by command class name) and are as strict as AWS where it matters, so a
 * wrong call fails in tests: every call in an AssumeRoot session is judged by AWS's own root-task
 * policy document (a delete under the audit policy, GetAccountSummary under the delete policy,
 * `UserName` inside a session: refused as AWS refuses them), AssumeRoot against the management
 * account, LookupEvents with two attributes, a NextToken reused with other parameters, and
 * more than 2 LookupEvents calls per second per account and region (ThrottlingException).
 * Every call is recorded in `calls`, and every change in `changes`, so tests count effects here.
 */
export type AlternateContactType = 'BILLING' | 'OPERATIONS' | 'SECURITY';

export interface SimKey {
  AccessKeyId: string;
  Status: 'Active' | 'Inactive';
  CreateDate: string;
  LastUsedDate?: string;
}

export interface SimAccount {
  accountId: string;
  name: string;
  email: string;
  root: {
    accessKeys: SimKey[];
    signingCertificates: { CertificateId: string; Status: 'Active' | 'Inactive'; UploadDate: string }[];
    /** Virtual devices are listed by ListVirtualMFADevices; every kind by ListMFADevices in a root session. */
    mfaDevices: { SerialNumber: string; kind: 'virtual' | 'u2f' | 'hardware'; EnableDate: string }[];
    password: boolean;
    /** True when centralized root access removed the root credentials of this member account. */
    credentialsRemoved?: boolean;
  };
  alternateContacts: Partial<Record<AlternateContactType, { Name: string; Title: string; EmailAddress: string; PhoneNumber: string }>>;
  contactInformation: JsonObject;
  enabledRegions: string[];
  trails: { Name: string; HomeRegion: string; IsMultiRegionTrail: boolean; IsLogging: boolean; TrailARN?: string }[];
  detectors: Record<string, { DetectorId: string; Status: 'ENABLED' | 'DISABLED' }>;
  iamUsers: {
    UserName: string;
    CreateDate: string;
    accessKeys?: SimKey[];
    loginProfile?: boolean;
    inlinePolicies?: Record<string, string>;
  }[];
  /** IAM roles and their trust policies (JSON text), for the trust-policy restore. */
  roles?: { RoleName: string; AssumeRolePolicyDocument: string }[];
  /** Virtual MFA devices that are not root's: an IAM user's (UserName), or unassigned. ListVirtualMFADevices lists them beside root's. */
  userVirtualMfaDevices?: { SerialNumber: string; UserName?: string; EnableDate?: string }[];
  /** CloudTrail records per region, as LookupEvents would return them (any order). */
  events: Record<string, JsonObject[]>;
  /**
   * The forwarding rules per region, where they differ from what the templates deploy (a rule
   * deleted or disabled); a region not listed has every forwarding rule, enabled.
   */
  forwardingRules?: Record<string, { Name: string; State: 'ENABLED' | 'DISABLED' | 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS' }[]>;
  /**
   * EC2 per region: AMIs, security-group ingress rules, instances and snapshots. What the account's
   * CloudTrail records did to them (a launch permission added, a rule authorized, an instance run, a
   * snapshot shared) is applied as the records arrive, so a scenario's records make the state.
   */
  ec2?: Record<string, SimEc2>;
}

export interface SimEc2 {
  images: Record<string, { launchPermissions: { Group?: string; UserId?: string }[] }>;
  securityGroups: Record<
    string,
    {
      rules: {
        SecurityGroupRuleId: string;
        IpProtocol: string;
        FromPort?: number;
        ToPort?: number;
        CidrIpv4?: string;
        CidrIpv6?: string;
      }[];
    }
  >;
  instances: Record<
    string,
    { State: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated'; InstanceType?: string }
  >;
  snapshots: Record<string, { createVolumePermissions: { Group?: string; UserId?: string }[] }>;
}

export interface SimOrganization {
  id: string;
  managementAccountId: string;
  /** iam:ListOrganizationsFeatures */
  features: ('RootCredentialsManagement' | 'RootSessions')[];
  /**
   * Trusted access for IAM in AWS Organizations, which centralized root access needs. Default: on when
   * a feature is enabled (enabling one in the console turns it on), off otherwise, the usual state of
   * an organization that never enabled them: ListOrganizationsFeatures then refuses
   * (ServiceAccessNotEnabledException) instead of listing no features.
   */
  iamTrustedAccess?: boolean;
  delegatedAdmins: string[];
  /** Service control policies (AWS's FullAWSAccess is implied: attached everywhere, listed first). */
  policies?: { Id: string; Name: string; Content: string }[];
  /** Policy ids attached directly to each account (ListPoliciesForTarget), beside FullAWSAccess. */
  attachments?: Record<string, string[]>;
}

export interface SimWorld {
  accounts: Record<string, SimAccount>;
  organization?: SimOrganization;
  /** The account the responder runs in (its Lambda role's account). */
  responderAccountId: string;
}

export interface SimCall {
  at: number;
  /** The deployed function that made the call (set by the drill), if known. */
  caller?: string;
  accountId: string;
  region: string;
  principal: string;
  command: string;
  input: unknown;
  error?: string;
}

export interface Fault {
  /** e.g. "LookupEventsCommand"; "*" for every command. */
  command: string;
  error: string;
  /** Fail this many times, then succeed. Infinity for always. */
  times: number;
  accountId?: string;
}

/**
 * A failure inside the simulated account, named as AWS names it. Every call's failure leaves the
 * simulated account as the SDK would raise it (`sdkError`): the service's own exception class where
 * its @aws-sdk/client-* package models one (IAM's `NoSuchEntityException`, not the wire code
 * `NoSuchEntity`), else the service's base exception under the error code, as the SDK does for an
 * error its model does not list (IAM's and STS's `AccessDenied`).
 */
class SimError extends Error {
  readonly $metadata: { httpStatusCode: number };
  readonly $fault: 'client' | 'server';
  constructor(name: string, message: string, status = 400) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
    this.$fault = status >= 500 ? 'server' : 'client';
  }
}

type SdkModule = Record<string, unknown>;

/** What an SDK command resolves to when sent: the output its middleware handler returns, as the SDK's own send() reads it. */
export type SdkOutput<C> = C extends { resolveMiddleware(...args: never[]): (...args: never[]) => Promise<{ output: infer O }> }
  ? O
  : unknown;

/** A simulated client: send() takes any SDK command and resolves to that command's output, as every SDK client's send() does. */
export interface SimClient {
  send<C>(command: C): Promise<SdkOutput<C>>;
}

/** Each simulated service's SDK package and its base exception, by IAM action prefix. */
const SDK_SERVICES: Record<
  string,
  {
    module: SdkModule;
    base: new (options: { name: string; $fault: 'client' | 'server'; $metadata: { httpStatusCode: number }; message: string }) => Error;
  }
> = {
  iam: { module: iamSdk, base: iamSdk.IAMServiceException },
  sts: { module: stsSdk, base: stsSdk.STSServiceException },
  account: { module: accountSdk, base: accountSdk.AccountServiceException },
  organizations: { module: organizationsSdk, base: organizationsSdk.OrganizationsServiceException },
  cloudtrail: { module: cloudtrailSdk, base: cloudtrailSdk.CloudTrailServiceException },
  guardduty: { module: guarddutySdk, base: guarddutySdk.GuardDutyServiceException },
  events: { module: eventbridgeSdk, base: eventbridgeSdk.EventBridgeServiceException },
  ec2: { module: ec2Sdk, base: ec2Sdk.EC2ServiceException },
  s3: { module: s3Sdk, base: s3Sdk.S3ServiceException },
  s3control: { module: s3controlSdk, base: s3controlSdk.S3ControlServiceException },
  rds: { module: rdsSdk, base: rdsSdk.RDSServiceException },
  kms: { module: kmsSdk, base: kmsSdk.KMSServiceException },
  lambda: { module: lambdaSdk, base: lambdaSdk.LambdaServiceException },
  ram: { module: ramSdk, base: ramSdk.RAMServiceException },
};

/** The error a service's SDK client raises for this error code, status and message. */
export function sdkError(service: string, name: string, message: string, status = 400): Error {
  const sdk = SDK_SERVICES[service];
  if (!sdk) return new SimError(name, message, status);
  const $metadata = { httpStatusCode: status };
  const modeled = sdk.module[name];
  if (typeof modeled === 'function' && modeled.prototype instanceof sdk.base) {
    return new (modeled as new (options: { message: string; $metadata: { httpStatusCode: number } }) => Error)({ message, $metadata });
  }
  return new sdk.base({ name, $fault: status >= 500 ? 'server' : 'client', $metadata, message });
}

/** The service (IAM action prefix) a simulated command belongs to. */
const serviceOf = (command: string) => COMMAND_ACTIONS[command]?.split(':')[0] ?? '';

type TaskPolicy = RootTaskPolicyName;
const TASK_POLICY_ARN = new RegExp(`^arn:aws:iam::aws:policy/root-task/(${ROOT_TASK_POLICY_NAMES.join('|')})$`);
/** AWS's root-task policy documents (unchanged copies in ./aws-managed-policies/), read once. */
const TASK_POLICIES = Object.fromEntries(ROOT_TASK_POLICY_NAMES.map((name) => [name, loadRootTaskPolicy(name)])) as Record<
  TaskPolicy,
  PolicyDocument
>;

interface Principal {
  accountId: string;
  kind: 'role' | 'root-session';
  policy?: TaskPolicy;
  label: string;
}

interface Credentials {
  accessKeyId: string;
}

/** The request context keys the SCP evaluation knows. */
export type ScpContext = Partial<Record<'aws:PrincipalArn' | 'aws:AssumedRoot', string>>;

/**
 * Whether an SCP document explicitly denies the action for a caller with this context. Conditions:
 * ArnEquals / ArnLike / StringEquals / StringLike on a context key, and Null (true: the key is absent);
 * any other operator is refused loudly rather than misread.
 */
export function scpDenies(content: string, action: string, context: ScpContext): boolean {
  const doc = JSON.parse(content) as {
    Statement: { Effect: string; Action: string | string[]; Condition?: Record<string, Record<string, string | string[]>> }[];
  };
  const like = (pattern: string, value: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    ).test(value);
  return doc.Statement.some((s) => {
    if (s.Effect !== 'Deny') return false;
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    if (!actions.some((a) => like(a.toLowerCase(), action.toLowerCase()))) return false;
    return Object.entries(s.Condition ?? {}).every(([operator, keys]) =>
      Object.entries(keys).every(([key, wanted]) => {
        const values = Array.isArray(wanted) ? wanted : [wanted];
        const actual = context[key as keyof ScpContext];
        switch (operator) {
          case 'Null':
            return values.some((v) => (v === 'true') === (actual === undefined));
          case 'ArnEquals':
          case 'StringEquals':
            return actual !== undefined && values.includes(actual);
          case 'ArnLike':
          case 'StringLike':
            return actual !== undefined && values.some((v) => like(v, actual));
          default:
            throw new Error(`SCP condition operator ${operator} is not modelled by the simulated account`);
        }
      }),
    );
  });
}

/** The IAM action each simulated command needs (the service prefix and the operation). */
export const COMMAND_ACTIONS: Record<string, string> = {
  GetCallerIdentityCommand: 'sts:GetCallerIdentity',
  AssumeRootCommand: 'sts:AssumeRoot',
  AssumeRoleCommand: 'sts:AssumeRole',
  ListRulesCommand: 'events:ListRules',
  GetAccountSummaryCommand: 'iam:GetAccountSummary',
  ListVirtualMFADevicesCommand: 'iam:ListVirtualMFADevices',
  ListMFADevicesCommand: 'iam:ListMFADevices',
  ListAccessKeysCommand: 'iam:ListAccessKeys',
  ListSigningCertificatesCommand: 'iam:ListSigningCertificates',
  GetLoginProfileCommand: 'iam:GetLoginProfile',
  DeleteAccessKeyCommand: 'iam:DeleteAccessKey',
  DeleteSigningCertificateCommand: 'iam:DeleteSigningCertificate',
  PutUserPolicyCommand: 'iam:PutUserPolicy',
  GetUserPolicyCommand: 'iam:GetUserPolicy',
  UpdateAccessKeyCommand: 'iam:UpdateAccessKey',
  DeleteLoginProfileCommand: 'iam:DeleteLoginProfile',
  DeactivateMFADeviceCommand: 'iam:DeactivateMFADevice',
  PutAlternateContactCommand: 'account:PutAlternateContact',
  StartLoggingCommand: 'cloudtrail:StartLogging',
  ListOrganizationsFeaturesCommand: 'iam:ListOrganizationsFeatures',
  GetAlternateContactCommand: 'account:GetAlternateContact',
  GetContactInformationCommand: 'account:GetContactInformation',
  GetAccountInformationCommand: 'account:GetAccountInformation',
  ListRegionsCommand: 'account:ListRegions',
  GetPrimaryEmailCommand: 'account:GetPrimaryEmail',
  DescribeOrganizationCommand: 'organizations:DescribeOrganization',
  DescribeAccountCommand: 'organizations:DescribeAccount',
  ListParentsCommand: 'organizations:ListParents',
  ListAccountsCommand: 'organizations:ListAccounts',
  DescribeTrailsCommand: 'cloudtrail:DescribeTrails',
  GetTrailStatusCommand: 'cloudtrail:GetTrailStatus',
  LookupEventsCommand: 'cloudtrail:LookupEvents',
  ListDetectorsCommand: 'guardduty:ListDetectors',
  GetDetectorCommand: 'guardduty:GetDetector',
  UpdateDetectorCommand: 'guardduty:UpdateDetector',
  CreateDetectorCommand: 'guardduty:CreateDetector',
  DescribeSecurityGroupRulesCommand: 'ec2:DescribeSecurityGroupRules',
  RevokeSecurityGroupIngressCommand: 'ec2:RevokeSecurityGroupIngress',
  DescribeImageAttributeCommand: 'ec2:DescribeImageAttribute',
  ModifyImageAttributeCommand: 'ec2:ModifyImageAttribute',
  DescribeInstancesCommand: 'ec2:DescribeInstances',
  StopInstancesCommand: 'ec2:StopInstances',
  GetFunctionCommand: 'lambda:GetFunction',
  DescribeSnapshotAttributeCommand: 'ec2:DescribeSnapshotAttribute',
  ModifySnapshotAttributeCommand: 'ec2:ModifySnapshotAttribute',
  ...RDS_SNAPSHOT_COMMANDS,
  GetRoleCommand: 'iam:GetRole',
  UpdateAssumeRolePolicyCommand: 'iam:UpdateAssumeRolePolicy',
  ListPoliciesCommand: 'organizations:ListPolicies',
  CreatePolicyCommand: 'organizations:CreatePolicy',
  AttachPolicyCommand: 'organizations:AttachPolicy',
  DetachPolicyCommand: 'organizations:DetachPolicy',
  ListPoliciesForTargetCommand: 'organizations:ListPoliciesForTarget',
  ...S3_COMMAND_ACTIONS,
  GetBucketPolicyCommand: 's3:GetBucketPolicy',
  PutBucketPolicyCommand: 's3:PutBucketPolicy',
  DeleteBucketPolicyCommand: 's3:DeleteBucketPolicy',
  GetKeyPolicyCommand: 'kms:GetKeyPolicy',
  PutKeyPolicyCommand: 'kms:PutKeyPolicy',
  ...GRANTS_COMMAND_ACTIONS,
};

/** IAM actions that name no user: the account (`*`). Every other IAM action here acts on one user's credentials. */
const ACCOUNT_LEVEL_IAM = new Set(['iam:GetAccountSummary', 'iam:ListVirtualMFADevices', 'iam:ListOrganizationsFeatures']);

/**
 * The action and resource IAM authorizes for a command sent in an AssumeRoot session (whose caller
 * is the member account's root user), or undefined for a command the simulated account does not know.
 * A call on a user's credentials names the user in `UserName`, or without it acts on the caller:
 * the root user (`arn:aws:iam::<account>:root`), which is what the root-task policies allow. With
 * `UserName` (even "root") it names an IAM user, which their NotResource statements deny.
 */
export function rootSessionRequest(
  command: string,
  input: Record<string, unknown>,
  accountId: string,
  region: string,
): PolicyRequest | undefined {
  const action = COMMAND_ACTIONS[command];
  if (!action) return undefined;
  return { action, resource: resourceOf(action, input, accountId, region) };
}

function resourceOf(action: string, input: Record<string, unknown>, accountId: string, region: string): string {
  if (ACCOUNT_LEVEL_IAM.has(action)) return '*';
  if (action.startsWith('iam:'))
    return input['UserName'] !== undefined
      ? `arn:aws:iam::${accountId}:user/${asText(input['UserName'])}`
      : `arn:aws:iam::${accountId}:root`;
  const named = (value: unknown, arn: (v: string) => string) => (String(value).startsWith('arn:') ? String(value) : arn(String(value)));
  switch (action) {
    case 'sts:AssumeRoot':
      return named(input['TargetPrincipal'], (id) => `arn:aws:iam::${id}:root`);
    case 'sts:AssumeRole':
      return String(input['RoleArn']);
    case 'cloudtrail:GetTrailStatus':
    case 'cloudtrail:StartLogging':
      return named(input['Name'], (name) => `arn:aws:cloudtrail:${region}:${accountId}:trail/${name}`);
    default:
      // The root-task policies deny every action outside their lists on any resource ("Resource": "*"),
      // so for the other services the resource changes only the message, never the decision.
      return '*';
  }
}

export class SimulatedAws {
  readonly calls: SimCall[] = [];
  private readonly callers = new AsyncLocalStorage<string>();
  readonly changes: { at: number; accountId: string; change: string; target: string }[] = [];
  private readonly sessions = new Map<string, Principal>();
  private readonly lookupCalls = new Map<string, number[]>();
  private readonly tokens = new Map<string, { params: string; offset: number }>();
  private faults: Fault[] = [];

  constructor(
    readonly world: SimWorld,
    private readonly timer: Timer = realTimer,
    /** Simulated network latency per call, on `timer` (benchmarks count round trips with it). */
    private readonly latencyMs = 0,
    /**
     * Attempts per call for transient errors, as the SDK clients the handlers get in AWS make
     * (clients.ts: maxAttempts 4). 1: every fault reaches the caller (unit tests of retry logic).
     */
    private readonly sdkMaxAttempts = 1,
  ) {}

  /** Attribute every call made inside `run` to `caller` (a deployed function's key). */
  runAs<T>(caller: string, run: () => Promise<T>): Promise<T> {
    return this.callers.run(caller, run);
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  private random?: { rate: number; errors: string[]; next: () => number };

  /**
   * Fail a seeded random fraction of all calls with transient errors (throttling, 5xx, timeouts):
   * the same seed gives the same sequence of faults.
   */
  randomFaults(options: { rate: number; seed: number; errors?: string[] }): void {
    this.random = {
      rate: options.rate,
      errors: options.errors ?? ['ThrottlingException', 'InternalFailure', 'RequestTimeout'],
      next: seededRandom(options.seed),
    };
  }

  account(accountId: string): SimAccount {
    const account = this.world.accounts[accountId];
    if (!account) throw new SimError('AccessDenied', `No access to account ${accountId}`, 403);
    return account;
  }

  /** A client for a principal in an account and region: the Lambda role, a member role, or an AssumeRoot session. */
  client(options: { accountId?: string; region: string; credentials?: Credentials; roleName?: string }): SimClient {
    const principal: Principal = options.credentials
      ? (this.sessions.get(options.credentials.accessKeyId) ??
        (() => {
          throw new SimError('InvalidClientTokenId', 'The security token included in the request is invalid', 403);
        })())
      : {
          accountId: options.accountId ?? this.world.responderAccountId,
          kind: 'role',
          label: options.roleName ? `role:${options.roleName}` : 'role',
        };
    return {
      send: async <C>(command: C) => {
        for (let attempt = 1; ; attempt++) {
          try {
            // The answer has the command's output shape (tests/contract/parity.test.ts holds the simulator to it).
            return (await this.handle(principal, options.region, command)) as SdkOutput<C>;
          } catch (error) {
            const transient = ['ThrottlingException', 'InternalFailure', 'RequestTimeout', 'ServiceUnavailable'].includes(
              (error as Error).name,
            );
            if (!transient || attempt >= this.sdkMaxAttempts) throw error;
            if (this.latencyMs > 0 || (error as Error).name === 'ThrottlingException') await this.timer.sleep(50 * 2 ** attempt);
          }
        }
      },
    };
  }

  /** The clients a step gets for a target account: that account's role, or an AssumeRoot session for IAM. */
  targetClients(target: Target): TargetClients {
    // A member role: assumed once per set of clients (as the SDK's temporary-credentials provider
    // does), by the calling function's own role in the responder account, then used in the member.
    const roleName = target.roleArn?.split('/').pop();
    let assumed: Promise<unknown> | undefined;
    // A refused assumption fails the call that needed it, naming the role, as the SDK's provider does.
    const assume = () =>
      (assumed ??= this.client({ region: 'us-east-1' })
        .send(new AssumeRoleCommand({ RoleArn: target.roleArn, RoleSessionName: 'root-responder', DurationSeconds: 900 }))
        .catch((error: Error) => {
          assumed = undefined;
          throw sdkError('sts', error.name, `sts:AssumeRole on ${target.roleArn} failed: ${error.message}`, 403);
        }));
    const as = (region: string): SimClient => {
      const client = this.client({ accountId: target.accountId, region, ...(roleName ? { roleName } : {}) });
      return roleName ? { send: async (command) => (await assume(), client.send(command)) } : client;
    };
    return {
      iam: (session) =>
        session ? this.client({ region: 'us-east-1', credentials: { accessKeyId: session.accessKeyId } }) : as('us-east-1'),
      sts: (region) => as(region),
      cloudtrail: (region) => as(region),
      account: () => as('us-east-1'),
      organizations: () => as('us-east-1'),
      guardduty: (region) => as(region),
      events: (region) => as(region),
      ec2: (region) => as(region),
      s3: (region) => as(region),
      s3control: (region) => as(region),
      rds: (region) => as(region),
      kms: (region) => as(region),
      lambda: (region) => as(region),
      ram: (region) => as(region),
    };
  }

  private async handle(principal: Principal, region: string, command: unknown): Promise<unknown> {
    const input = ((command as { input?: unknown }).input ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const name = s3CommandName((command as object).constructor.name, input);
    const caller = this.callers.getStore();
    const call: SimCall = {
      at: this.timer.now(),
      ...(caller ? { caller } : {}),
      accountId: principal.accountId,
      region,
      principal: principal.label,
      command: name,
      input: structuredClone(input),
    };
    this.calls.push(call);
    if (this.latencyMs > 0) await this.timer.sleep(this.latencyMs);
    else await Promise.resolve();
    try {
      if (this.random && this.random.next() < this.random.rate) {
        const error = this.random.errors[Math.floor(this.random.next() * this.random.errors.length)]!;
        throw new SimError(error, `Injected random ${error}`, error === 'ThrottlingException' ? 400 : 500);
      }
      const fault = this.faults.find(
        (f) => (f.command === name || f.command === '*') && f.times > 0 && (!f.accountId || f.accountId === principal.accountId),
      );
      if (fault) {
        fault.times -= 1;
        throw new SimError(
          fault.error,
          `Injected ${fault.error}`,
          fault.error === 'ThrottlingException' ? 400 : fault.error.startsWith('Internal') ? 500 : 403,
        );
      }
      return structuredClone(this.dispatch(principal, region, name, input));
    } catch (error) {
      call.error = (error as Error).name;
      // What leaves the simulated account is what the SDK raises: the service's exception class.
      throw error instanceof SimError ? sdkError(serviceOf(name), error.name, error.message, error.$metadata.httpStatusCode) : error;
    }
  }

  /**
   * Every call in an AssumeRoot session is judged by the session's root-task policy document, as AWS
   * judges it (see rootTaskSessionDecision): allowed iff no Deny statement applies to its action and
   * resource. GetCallerIdentity is exempt: AWS documents that it needs no permission and that an
   * explicit deny of sts:GetCallerIdentity does not stop it (STS API Reference, GetCallerIdentity).
   */
  private authorizeRootSession(principal: Principal, region: string, name: string, input: Record<string, unknown>): void {
    if (name === 'GetCallerIdentityCommand') return;
    const request = rootSessionRequest(name, input, principal.accountId, region);
    if (!request) throw new SimError('UnsupportedOperation', `The simulated account does not implement ${name}`, 400);
    const decision = rootTaskSessionDecision(TASK_POLICIES[principal.policy!], request);
    if (!decision.allowed) {
      throw new SimError(
        'AccessDenied',
        `User: arn:aws:iam::${principal.accountId}:root is not authorized to perform: ${request.action} on resource: ${request.resource} with an explicit deny in a session policy`,
        403,
      );
    }
  }

  /**
   * The SCPs attached to the caller's account, as AWS applies them to every request in a member
   * account (never in the management account): an explicit Deny whose conditions hold refuses the
   * call. The conditions are the caller's: `aws:PrincipalArn` (a role's ARN, or the account root's
   * in an AssumeRoot session) and `aws:AssumedRoot` (set only in AssumeRoot sessions).
   */
  private authorizeByScps(principal: Principal, name: string): void {
    const org = this.world.organization;
    if (!org || principal.accountId === org.managementAccountId) return;
    const action = COMMAND_ACTIONS[name];
    if (!action) return;
    const context: ScpContext = {
      'aws:PrincipalArn':
        principal.kind === 'root-session'
          ? `arn:aws:iam::${principal.accountId}:root`
          : `arn:aws:iam::${principal.accountId}:role/${principal.label.replace(/^role:?/, '') || 'root-responder'}`,
      ...(principal.kind === 'root-session' ? { 'aws:AssumedRoot': 'true' } : {}),
    };
    for (const id of org.attachments?.[principal.accountId] ?? []) {
      const policy = org.policies?.find((p) => p.Id === id);
      if (policy && scpDenies(policy.Content, action, context))
        throw new SimError('AccessDenied', `${action} is denied by the service control policy ${policy.Name} (${policy.Id})`, 403);
    }
  }

  /** Commands the simulated account answers only for a role (a root session that got past its task policy is not modelled). */
  /** The account's detector in the region, when `detectorId` names it; GuardDuty refuses any other id. */
  private ownedDetector(accountId: string, region: string, detectorId: unknown) {
    const d = this.account(accountId).detectors[region];
    if (!d || d.DetectorId !== detectorId)
      throw new SimError(
        'BadRequestException',
        'The request is rejected because the input detectorId is not owned by the current account.',
        400,
      );
    return d;
  }

  private requireRole(principal: Principal, name: string): void {
    if (principal.kind === 'root-session')
      throw new SimError('AccessDenied', `${name} is not modelled for an AssumeRoot session (${principal.policy})`, 403);
  }

  /** The root user's own credentials: only in an AssumeRoot session (already judged by its task policy), and without UserName. */
  private rootScope(principal: Principal, input: Record<string, unknown>, name: string): SimAccount {
    if (principal.kind !== 'root-session') {
      throw new SimError(
        'AccessDenied',
        `${name} on the root user needs an AssumeRoot session (no IAM principal can manage root credentials)`,
        403,
      );
    }
    if ('UserName' in input && input['UserName'] !== undefined) {
      throw new SimError(
        'AccessDenied',
        `${name}: omit UserName in an AssumeRoot session (UserName names an IAM user, which the root task policy does not cover)`,
        403,
      );
    }
    return this.account(principal.accountId);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- SDK command inputs of many shapes are read field by field, as the real service would
  private dispatch(principal: Principal, region: string, name: string, input: Record<string, any>): unknown {
    if (principal.kind === 'root-session') this.authorizeRootSession(principal, region, name, input);
    this.authorizeByScps(principal, name);
    switch (name) {
      // ---------- STS ----------
      case 'GetCallerIdentityCommand':
        return {
          Account: principal.accountId,
          Arn:
            principal.kind === 'root-session'
              ? `arn:aws:iam::${principal.accountId}:root`
              : `arn:aws:sts::${principal.accountId}:assumed-role/root-responder/lambda`,
          UserId: 'AROAEXAMPLE',
        };
      case 'AssumeRoleCommand': {
        // The member roles the organization templates deploy, trusted by the responder's account only.
        this.requireRole(principal, name);
        const m = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(String(input['RoleArn'] ?? ''));
        if (!m || !MEMBER_ROLES.includes(m[2]!))
          throw new SimError('AccessDenied', `Not authorized to perform sts:AssumeRole on ${String(input['RoleArn'])}`, 403);
        if (principal.accountId !== this.world.responderAccountId)
          throw new SimError('AccessDenied', `${m[2]} trusts only the responder's account`, 403);
        this.account(m[1]!);
        return {
          Credentials: {
            AccessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
            SecretAccessKey: 'x',
            SessionToken: 'x',
            Expiration: new Date(this.timer.now() + 900_000),
          },
        };
      }
      case 'AssumeRootCommand': {
        this.requireRole(principal, name);
        const org = this.world.organization;
        const target = String(input['TargetPrincipal'] ?? '');
        const policy = TASK_POLICY_ARN.exec(
          String((input['TaskPolicyArn'] as { arn?: unknown } | undefined)?.arn ?? input['TaskPolicyArn'] ?? ''),
        )?.[1] as TaskPolicy | undefined;
        if (region === 'aws-global' || region === '') throw new SimError('InvalidAction', 'AssumeRoot needs a regional STS endpoint', 400);
        if (!policy)
          throw new SimError(
            'ValidationError',
            `TaskPolicyArn must be a root-task policy the simulated account holds (${ROOT_TASK_POLICY_NAMES.join(', ')})`,
            400,
          );
        if (Number(input['DurationSeconds'] ?? 900) > 900)
          throw new SimError('ValidationError', 'DurationSeconds must be at most 900', 400);
        if (!org || !(principal.accountId === org.managementAccountId || org.delegatedAdmins.includes(principal.accountId))) {
          throw new SimError('AccessDenied', 'AssumeRoot is allowed only from the management account or a delegated administrator', 403);
        }
        if (!org.features.includes('RootSessions'))
          throw new SimError('AccessDenied', 'Privileged root actions (RootSessions) are not enabled for the organization', 403);
        if (target === org.managementAccountId) throw new SimError('AccessDenied', 'AssumeRoot cannot target the management account', 403);
        this.account(target);
        const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
        this.sessions.set(accessKeyId, { accountId: target, kind: 'root-session', policy, label: `root-session:${policy}` });
        return {
          Credentials: {
            AccessKeyId: accessKeyId,
            SecretAccessKey: randomBytes(20).toString('base64'),
            SessionToken: randomBytes(32).toString('base64'),
            Expiration: new Date(this.timer.now() + 900_000),
          },
          SourceIdentity: undefined,
        };
      }
      // ---------- IAM ----------
      case 'GetAccountSummaryCommand': {
        const a = this.account(principal.accountId);
        return {
          SummaryMap: {
            AccountAccessKeysPresent: a.root.accessKeys.length > 0 ? 1 : 0,
            AccountMFAEnabled: a.root.mfaDevices.length > 0 ? 1 : 0,
            AccountSigningCertificatesPresent: a.root.signingCertificates.length > 0 ? 1 : 0,
            Users: a.iamUsers.length,
          },
        };
      }
      case 'ListVirtualMFADevicesCommand': {
        this.requireRole(principal, name);
        const a = this.account(principal.accountId);
        const status = String(input['AssignmentStatus'] ?? 'Any');
        if (!['Assigned', 'Unassigned', 'Any'].includes(status))
          throw new SimError('ValidationError', 'AssignmentStatus must be Assigned, Unassigned or Any', 400);
        const devices = [
          ...a.root.mfaDevices
            .filter((d) => d.kind === 'virtual')
            .map((d) => ({
              SerialNumber: d.SerialNumber,
              EnableDate: new Date(d.EnableDate),
              User: { Arn: `arn:aws:iam::${a.accountId}:root`, UserId: a.accountId, UserName: '', Path: '/', CreateDate: new Date(0) },
            })),
          ...(a.userVirtualMfaDevices ?? []).map((d) => ({
            SerialNumber: d.SerialNumber,
            ...(d.UserName
              ? {
                  EnableDate: new Date(d.EnableDate ?? 0),
                  User: {
                    Arn: `arn:aws:iam::${a.accountId}:user/${d.UserName}`,
                    UserId: `AIDA${d.UserName.toUpperCase()}`,
                    UserName: d.UserName,
                    Path: '/',
                    CreateDate: new Date(0),
                  },
                }
              : {}),
          })),
        ]
          .filter((d) => status === 'Any' || (status === 'Assigned') === 'User' in d)
          .sort((x, y) => x.SerialNumber.localeCompare(y.SerialNumber));
        return this.iamPage(devices, input, (page) => ({ VirtualMFADevices: page }));
      }
      case 'ListMFADevicesCommand': {
        const a = this.rootScope(principal, input, name);
        return {
          MFADevices: a.root.mfaDevices.map((d) => ({ UserName: '', SerialNumber: d.SerialNumber, EnableDate: new Date(d.EnableDate) })),
          IsTruncated: false,
        };
      }
      case 'ListAccessKeysCommand': {
        if (principal.kind === 'role' && input['UserName'] !== undefined) {
          const user = this.iamUser(principal.accountId, String(input['UserName']));
          return {
            AccessKeyMetadata: (user.accessKeys ?? []).map((k) => ({
              UserName: user.UserName,
              AccessKeyId: k.AccessKeyId,
              Status: k.Status,
              CreateDate: new Date(k.CreateDate),
            })),
            IsTruncated: false,
          };
        }
        const a = this.rootScope(principal, input, name);
        return {
          AccessKeyMetadata: a.root.accessKeys.map((k) => ({
            AccessKeyId: k.AccessKeyId,
            Status: k.Status,
            CreateDate: new Date(k.CreateDate),
          })),
          IsTruncated: false,
        };
      }
      case 'ListSigningCertificatesCommand': {
        const a = this.rootScope(principal, input, name);
        return {
          Certificates: a.root.signingCertificates.map((c) => ({
            UserName: '',
            CertificateId: c.CertificateId,
            CertificateBody: '-----BEGIN CERTIFICATE-----',
            Status: c.Status,
            UploadDate: new Date(c.UploadDate),
          })),
          IsTruncated: false,
        };
      }
      case 'GetLoginProfileCommand': {
        const a = this.rootScope(principal, input, name);
        if (!a.root.password) throw new SimError('NoSuchEntityException', 'Login Profile for the root user cannot be found', 404);
        return { LoginProfile: { UserName: '', CreateDate: new Date(0), PasswordResetRequired: false } };
      }
      case 'DeleteAccessKeyCommand': {
        const a = this.rootScope(principal, input, name);
        const i = a.root.accessKeys.findIndex((k) => k.AccessKeyId === input['AccessKeyId']);
        if (i < 0)
          throw new SimError('NoSuchEntityException', `The Access Key with id ${String(input['AccessKeyId'])} cannot be found`, 404);
        a.root.accessKeys.splice(i, 1);
        this.changes.push({
          at: this.timer.now(),
          accountId: a.accountId,
          change: 'delete-root-access-key',
          target: String(input['AccessKeyId']),
        });
        return {};
      }
      case 'DeleteSigningCertificateCommand': {
        const a = this.rootScope(principal, input, name);
        const i = a.root.signingCertificates.findIndex((c) => c.CertificateId === input['CertificateId']);
        if (i < 0)
          throw new SimError('NoSuchEntityException', `The Certificate with id ${String(input['CertificateId'])} cannot be found`, 404);
        a.root.signingCertificates.splice(i, 1);
        this.changes.push({
          at: this.timer.now(),
          accountId: a.accountId,
          change: 'delete-root-signing-certificate',
          target: String(input['CertificateId']),
        });
        return {};
      }
      // ---------- IAM users (remediations) ----------
      case 'PutUserPolicyCommand': {
        this.requireRole(principal, name);
        const user = this.iamUser(principal.accountId, String(input['UserName']));
        if (user.inlinePolicies?.[String(input['PolicyName'])] === String(input['PolicyDocument'])) return {};
        user.inlinePolicies = { ...(user.inlinePolicies ?? {}), [String(input['PolicyName'])]: String(input['PolicyDocument']) };
        this.changes.push({
          at: this.timer.now(),
          accountId: principal.accountId,
          change: 'put-user-policy',
          target: `${user.UserName}/${String(input['PolicyName'])}`,
        });
        return {};
      }
      case 'GetUserPolicyCommand': {
        this.requireRole(principal, name);
        const user = this.iamUser(principal.accountId, String(input['UserName']));
        const doc = user.inlinePolicies?.[String(input['PolicyName'])];
        if (doc === undefined)
          throw new SimError('NoSuchEntityException', `The user policy with name ${String(input['PolicyName'])} cannot be found.`, 404);
        return { UserName: user.UserName, PolicyName: input['PolicyName'] as string | undefined, PolicyDocument: encodeURIComponent(doc) };
      }
      case 'UpdateAccessKeyCommand': {
        this.requireRole(principal, name);
        const user = this.iamUser(principal.accountId, String(input['UserName']));
        const key = (user.accessKeys ?? []).find((k) => k.AccessKeyId === input['AccessKeyId']);
        if (!key)
          throw new SimError('NoSuchEntityException', `The Access Key with id ${String(input['AccessKeyId'])} cannot be found`, 404);
        if (key.Status !== input['Status']) {
          key.Status = input['Status'] as SimKey['Status'];
          this.changes.push({
            at: this.timer.now(),
            accountId: principal.accountId,
            change: `access-key-${String(input['Status']).toLowerCase()}`,
            target: key.AccessKeyId,
          });
        }
        return {};
      }
      case 'DeleteLoginProfileCommand': {
        if (principal.kind === 'root-session') {
          const a = this.rootScope(principal, input, name);
          if (!a.root.password) throw new SimError('NoSuchEntityException', 'Login Profile for the root user cannot be found', 404);
          a.root.password = false;
          this.changes.push({ at: this.timer.now(), accountId: a.accountId, change: 'delete-root-password', target: a.accountId });
          return {};
        }
        const user = this.iamUser(principal.accountId, String(input['UserName']));
        if (!user.loginProfile)
          throw new SimError('NoSuchEntityException', `Login Profile for User ${user.UserName} cannot be found.`, 404);
        user.loginProfile = false;
        this.changes.push({ at: this.timer.now(), accountId: principal.accountId, change: 'delete-login-profile', target: user.UserName });
        return {};
      }
      case 'DeactivateMFADeviceCommand': {
        const a = this.rootScope(principal, input, name);
        const i = a.root.mfaDevices.findIndex((d) => d.SerialNumber === input['SerialNumber']);
        if (i < 0) throw new SimError('NoSuchEntityException', `MFA device ${String(input['SerialNumber'])} cannot be found`, 404);
        a.root.mfaDevices.splice(i, 1);
        this.changes.push({
          at: this.timer.now(),
          accountId: a.accountId,
          change: 'deactivate-root-mfa-device',
          target: String(input['SerialNumber']),
        });
        return {};
      }
      // The errors the IAM API Reference lists for ListOrganizationsFeatures (IAM's own, not Organizations').
      case 'ListOrganizationsFeaturesCommand': {
        this.requireRole(principal, name);
        const org = this.world.organization;
        if (!org) throw new SimError('OrganizationNotFoundException', 'No organization is associated with your account.', 400);
        if (principal.accountId !== org.managementAccountId && !org.delegatedAdmins.includes(principal.accountId)) {
          throw new SimError(
            'AccountNotManagementOrDelegatedAdministratorException',
            'The account making the request is not the management account or delegated administrator account for centralized root access.',
            400,
          );
        }
        if (!(org.iamTrustedAccess ?? org.features.length > 0))
          throw new SimError('ServiceAccessNotEnabledException', 'Trusted access is not enabled for IAM in Organizations.', 400);
        return { OrganizationId: org.id, EnabledFeatures: [...org.features] };
      }
      // ---------- Account ----------
      case 'GetAlternateContactCommand': {
        this.requireRole(principal, name);
        const a = this.targetAccount(principal, input);
        const type = String(input['AlternateContactType']) as AlternateContactType;
        if (!['BILLING', 'OPERATIONS', 'SECURITY'].includes(type))
          throw new SimError('ValidationException', 'AlternateContactType must be BILLING, OPERATIONS or SECURITY', 400);
        const contact = a.alternateContacts[type];
        if (!contact) throw new SimError('ResourceNotFoundException', 'No contact of the inputted alternate contact type found.', 404);
        return { AlternateContact: { AlternateContactType: type, ...contact } };
      }
      case 'PutAlternateContactCommand': {
        this.requireRole(principal, name);
        const a = this.targetAccount(principal, input);
        const type = String(input['AlternateContactType']) as AlternateContactType;
        a.alternateContacts[type] = {
          Name: String(input['Name']),
          Title: String(input['Title']),
          EmailAddress: String(input['EmailAddress']),
          PhoneNumber: String(input['PhoneNumber']),
        };
        this.changes.push({ at: this.timer.now(), accountId: a.accountId, change: 'put-alternate-contact', target: type });
        return {};
      }
      case 'GetContactInformationCommand': {
        this.requireRole(principal, name);
        return { ContactInformation: this.targetAccount(principal, input).contactInformation };
      }
      case 'GetAccountInformationCommand': {
        this.requireRole(principal, name);
        const a = this.targetAccount(principal, input);
        return { AccountId: a.accountId, AccountName: a.name, AccountCreatedDate: new Date('2019-06-01T00:00:00Z') };
      }
      case 'GetPrimaryEmailCommand': {
        this.requireRole(principal, name);
        if (input['AccountId'] === undefined)
          throw new SimError('ValidationException', 'AccountId is required: GetPrimaryEmail is served for member accounts', 400);
        return { PrimaryEmail: this.targetAccount(principal, input).email };
      }
      case 'ListRegionsCommand': {
        this.requireRole(principal, name);
        const a = this.targetAccount(principal, input);
        // Pages of at most 10 (the API may return fewer than MaxResults), so callers must follow NextToken.
        const start = Number(input['NextToken'] ?? 0);
        const end = start + Math.min(Number(input['MaxResults'] ?? 20), 10);
        const regions = a.enabledRegions.map((r) => ({ RegionName: r, RegionOptStatus: 'ENABLED_BY_DEFAULT' }));
        return { Regions: regions.slice(start, end), ...(end < regions.length ? { NextToken: String(end) } : {}) };
      }
      // ---------- EventBridge ----------
      case 'ListRulesCommand': {
        this.requireRole(principal, name);
        const a = this.account(principal.accountId);
        const prefix = String(input['NamePrefix'] ?? '');
        const stage = /^root-responder-(.+)-$/.exec(prefix)?.[1];
        const deployed = stage
          ? FORWARDED_RULES.map((id) => ({
              Name: forwardingRuleName(stage, id),
              State:
                id === 'RootApiCallRule' || id === 'RootConsoleActionRule' ? 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS' : 'ENABLED',
            }))
          : [];
        const rules = (a.forwardingRules?.[region] ?? deployed).filter((r) => r.Name.startsWith(prefix));
        return {
          Rules: rules.map((r) => ({ ...r, EventBusName: 'default', Arn: `arn:aws:events:${region}:${a.accountId}:rule/${r.Name}` })),
        };
      }
      // ---------- Organizations ----------
      case 'DescribeOrganizationCommand': {
        this.requireRole(principal, name);
        const org = this.world.organization;
        if (!org || !Object.keys(this.world.accounts).includes(principal.accountId))
          throw new SimError('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.', 400);
        return { Organization: { Id: org.id, MasterAccountId: org.managementAccountId, FeatureSet: 'ALL' } };
      }
      case 'ListAccountsCommand': {
        this.requireRole(principal, name);
        const org = this.world.organization;
        if (!org || (principal.accountId !== org.managementAccountId && !org.delegatedAdmins.includes(principal.accountId))) {
          throw new SimError(
            'AccessDeniedException',
            'ListAccounts is available only to the management account or a delegated administrator',
            403,
          );
        }
        // Pages of 20, as the API does by default, so callers must follow NextToken. Each entry as
        // AWS documents it (and moto sends it): State and the retired Status, how and when it joined.
        const all = Object.values(this.world.accounts).map((a) => organizationAccount(org, a));
        const start = Number(input['NextToken'] ?? 0);
        const end = start + Math.min(Number(input['MaxResults'] ?? 20), 20);
        return { Accounts: all.slice(start, end), ...(end < all.length ? { NextToken: String(end) } : {}) };
      }
      case 'DescribeAccountCommand':
      case 'ListParentsCommand': {
        this.requireRole(principal, name);
        const org = this.world.organization;
        if (!org || (principal.accountId !== org.managementAccountId && !org.delegatedAdmins.includes(principal.accountId))) {
          throw new SimError(
            'AccessDeniedException',
            `${name} is available only to the management account or a delegated administrator`,
            403,
          );
        }
        const id = String(input['AccountId'] ?? input['ChildId'] ?? '');
        const a = this.world.accounts[id];
        // An account outside the organization: the errors the Organizations API reference lists for each.
        if (!a && name === 'ListParentsCommand')
          throw new SimError(
            'ChildNotFoundException',
            `We can't find an organizational unit (OU) or AWS account with the ChildId ${id}.`,
            400,
          );
        if (!a) throw new SimError('AccountNotFoundException', "You specified an account that doesn't exist.", 400);
        if (name === 'ListParentsCommand') return { Parents: [{ Id: 'ou-ab12-workloads', Type: 'ORGANIZATIONAL_UNIT' }] };
        return { Account: organizationAccount(org, a) };
      }
      // ---------- CloudTrail ----------
      // Trails are regional (CloudTrail API Reference: DescribeTrails, GetTrailStatus, StartLogging).
      // In a region, DescribeTrails lists the trails homed there and, with includeShadowTrails (the
      // default), the multi-region trails homed elsewhere (shadow trails, with their HomeRegion); by
      // name it finds the region's own trails only, another region's trail only by its ARN.
      case 'DescribeTrailsCommand': {
        this.requireRole(principal, name);
        const a = this.account(principal.accountId);
        const names = (input['trailNameList'] ?? []) as string[];
        const shown = names.length
          ? a.trails.filter((t) => names.some((n) => n === trailArn(a.accountId, t) || (n === t.Name && t.HomeRegion === region)))
          : a.trails.filter((t) => t.HomeRegion === region || (input['includeShadowTrails'] !== false && t.IsMultiRegionTrail));
        return {
          trailList: shown.map((t) => ({
            Name: t.Name,
            HomeRegion: t.HomeRegion,
            IsMultiRegionTrail: t.IsMultiRegionTrail,
            TrailARN: trailArn(a.accountId, t),
          })),
        };
      }
      // From one region: the region's own trail by name or ARN, a shadow trail by its ARN only.
      case 'GetTrailStatusCommand': {
        this.requireRole(principal, name);
        const a = this.account(principal.accountId);
        const n = String(input['Name']);
        const trail = a.trails.find(
          (t) =>
            (t.HomeRegion === region && (t.Name === n || trailArn(a.accountId, t) === n)) ||
            (t.IsMultiRegionTrail && trailArn(a.accountId, t) === n),
        );
        if (!trail)
          throw new SimError(
            'TrailNotFoundException',
            `Unknown trail: ${trailArnOf(n, region, a.accountId)} for the user: ${a.accountId}`,
            404,
          );
        return { IsLogging: trail.IsLogging };
      }
      // Only in the trail's home region: a shadow trail refuses it (InvalidHomeRegionException).
      case 'StartLoggingCommand': {
        this.requireRole(principal, name);
        const a = this.account(principal.accountId);
        const n = String(input['Name']);
        const trail = a.trails.find((t) => t.HomeRegion === region && (t.Name === n || trailArn(a.accountId, t) === n));
        if (!trail) {
          if (a.trails.some((t) => t.IsMultiRegionTrail && trailArn(a.accountId, t) === n))
            throw new SimError(
              'InvalidHomeRegionException',
              'This operation must be called from the Region in which the trail was created.',
              400,
            );
          throw new SimError(
            'TrailNotFoundException',
            `Unknown trail: ${trailArnOf(n, region, a.accountId)} for the user: ${a.accountId}`,
            404,
          );
        }
        if (!trail.IsLogging) {
          trail.IsLogging = true;
          this.changes.push({ at: this.timer.now(), accountId: principal.accountId, change: 'start-logging', target: trail.Name });
        }
        return {};
      }
      case 'LookupEventsCommand':
        this.requireRole(principal, name);
        return this.lookupEvents(principal.accountId, region, input);
      // ---------- GuardDuty ----------
      case 'ListDetectorsCommand': {
        this.requireRole(principal, name);
        const d = this.account(principal.accountId).detectors[region];
        return { DetectorIds: d ? [d.DetectorId] : [] };
      }
      case 'GetDetectorCommand': {
        this.requireRole(principal, name);
        const d = this.ownedDetector(principal.accountId, region, input['DetectorId']);
        return { Status: d.Status, FindingPublishingFrequency: 'SIX_HOURS' };
      }
      case 'UpdateDetectorCommand': {
        this.requireRole(principal, name);
        const d = this.ownedDetector(principal.accountId, region, input['DetectorId']);
        const status = input['Enable'] === false ? 'DISABLED' : input['Enable'] === true ? 'ENABLED' : d.Status;
        if (status !== d.Status) {
          d.Status = status;
          this.changes.push({
            at: this.timer.now(),
            accountId: principal.accountId,
            change: `guardduty-${status.toLowerCase()}`,
            target: d.DetectorId,
          });
        }
        return {};
      }
      case 'CreateDetectorCommand': {
        this.requireRole(principal, name);
        const a = this.account(principal.accountId);
        if (a.detectors[region])
          throw new SimError(
            'BadRequestException',
            'The request is rejected because a detector already exists for the current account.',
            400,
          );
        if (typeof input['Enable'] !== 'boolean')
          throw new SimError('BadRequestException', 'The request is rejected because Enable is missing.', 400);
        const id = randomBytes(16).toString('hex');
        a.detectors[region] = { DetectorId: id, Status: input['Enable'] ? 'ENABLED' : 'DISABLED' };
        this.changes.push({ at: this.timer.now(), accountId: a.accountId, change: 'guardduty-create-detector', target: `${region}/${id}` });
        return { DetectorId: id };
      }
      // ---------- IAM roles (trust-policy restore) ----------
      case 'GetRoleCommand': {
        this.requireRole(principal, name);
        const role = this.iamRole(principal.accountId, String(input['RoleName']));
        return {
          Role: {
            RoleName: role.RoleName,
            Path: '/',
            RoleId: 'AROAEXAMPLE',
            Arn: `arn:aws:iam::${principal.accountId}:role/${role.RoleName}`,
            CreateDate: new Date(0),
            // IAM returns policy documents URL-encoded (RFC 3986).
            AssumeRolePolicyDocument: encodeURIComponent(role.AssumeRolePolicyDocument),
          },
        };
      }
      case 'UpdateAssumeRolePolicyCommand': {
        this.requireRole(principal, name);
        const role = this.iamRole(principal.accountId, String(input['RoleName']));
        const doc = String(input['PolicyDocument'] ?? '');
        try {
          JSON.parse(doc);
        } catch {
          throw new SimError('MalformedPolicyDocumentException', 'This policy contains invalid Json', 400);
        }
        if (doc !== role.AssumeRolePolicyDocument) {
          role.AssumeRolePolicyDocument = doc;
          this.changes.push({
            at: this.timer.now(),
            accountId: principal.accountId,
            change: 'update-assume-role-policy',
            target: role.RoleName,
          });
        }
        return {};
      }
      // ---------- Organizations: service control policies ----------
      case 'ListPoliciesCommand':
      case 'CreatePolicyCommand':
      case 'AttachPolicyCommand':
      case 'DetachPolicyCommand':
      case 'ListPoliciesForTargetCommand':
        this.requireRole(principal, name);
        return this.serviceControlPolicies(principal, name, input);
      case 'DescribeSecurityGroupRulesCommand':
      case 'RevokeSecurityGroupIngressCommand':
      case 'DescribeImageAttributeCommand':
      case 'ModifyImageAttributeCommand':
      case 'DescribeInstancesCommand':
      case 'StopInstancesCommand':
      case 'DescribeSnapshotAttributeCommand':
      case 'ModifySnapshotAttributeCommand':
        this.requireRole(principal, name);
        return this.ec2Call(principal.accountId, region, name, input);
      case 'GetFunctionCommand':
        this.requireRole(principal, name);
        return reviewCall(this.account(principal.accountId), region, name, input, (n, m, status) => sdkError('lambda', n, m, status));
      case 'DescribeDBSnapshotAttributesCommand':
      case 'ModifyDBSnapshotAttributeCommand':
      case 'DescribeDBClusterSnapshotAttributesCommand':
      case 'ModifyDBClusterSnapshotAttributeCommand':
        this.requireRole(principal, name);
        return this.rdsSnapshots.call(principal.accountId, region, name, input);
      case 'GetBucketAclCommand':
      case 'PutBucketAclCommand':
      case 'GetPublicAccessBlockCommand':
      case 'PutPublicAccessBlockCommand':
      case 'S3ControlGetPublicAccessBlockCommand':
      case 'S3ControlPutPublicAccessBlockCommand':
        this.requireRole(principal, name);
        return this.s3Account.call(
          principal.accountId,
          this.account(principal.accountId).events,
          region,
          name,
          input,
          sdkError,
          (change, target) => this.changes.push({ at: this.timer.now(), accountId: principal.accountId, change, target }),
        );
      case 'GetBucketPolicyCommand':
      case 'PutBucketPolicyCommand':
      case 'DeleteBucketPolicyCommand':
      case 'GetKeyPolicyCommand':
      case 'PutKeyPolicyCommand':
        this.requireRole(principal, name);
        return policyCall(
          this.policyState(principal.accountId, region),
          name,
          input,
          (code, message, status) => new SimError(code, message, status),
          (change, target) => this.changes.push({ at: this.timer.now(), accountId: principal.accountId, change, target }),
        );
      case 'ListGrantsCommand':
      case 'RevokeGrantCommand':
      case 'GetPolicyCommand':
      case 'RemovePermissionCommand':
      case 'GetFunctionUrlConfigCommand':
      case 'UpdateFunctionUrlConfigCommand':
      case 'GetResourceShareAssociationsCommand':
      case 'DisassociateResourceShareCommand':
        this.requireRole(principal, name);
        return grantsCall(
          this.grantsState(principal.accountId, region),
          {
            accountId: principal.accountId,
            region,
            fail: (code, message, status) => new SimError(code, message, status),
            change: (what, target) => this.changes.push({ at: this.timer.now(), accountId: principal.accountId, change: what, target }),
          },
          name,
          input,
        );
      default:
        throw new SimError('UnsupportedOperation', `The simulated account does not implement ${name}`, 400);
    }
  }

  /** RDS snapshots and their restore attribute, built from the account's CloudTrail records (simulated-snapshots.ts). */
  readonly rdsSnapshots = new SimulatedRdsSnapshots({
    records: (accountId, region) => this.account(accountId).events[region] ?? [],
    fail: (name, message, status) => new SimError(name, message, status),
    change: (accountId, change, target) => this.changes.push({ at: this.timer.now(), accountId, change, target }),
  });
  /** The target accounts' own S3 (buckets, ACLs, Block Public Access), built from their CloudTrail records. */
  readonly s3Account = new SimulatedS3Account();
  /** Each account's and region's bucket and key policies, and how many of its records they have taken in (simulated-policies.ts). */
  private policies = new Map<string, { state: SimPolicies; applied: number }>();

  /** The bucket and key policies of an account in a region, with every record that arrived since the last call applied, oldest first. */
  policyState(accountId: string, region: string): SimPolicies {
    const key = `${accountId}:${region}`;
    const held = this.policies.get(key) ?? { state: { buckets: {}, keys: {} }, applied: 0 };
    const records = this.account(accountId).events[region] ?? [];
    const arrived = records.slice(held.applied).sort((a, b) => asText(a['eventTime'] ?? '').localeCompare(asText(b['eventTime'] ?? '')));
    for (const r of arrived) applyPolicyRecord(held.state, r, accountId);
    held.applied = records.length;
    this.policies.set(key, held);
    return held.state;
  }

  /** KMS grants, Lambda policies and URLs, RAM shares per account and region (drill/simulated-grants.ts), and how many records each took in. */
  private readonly grants = new Map<string, { state: SimGrantsRegion; applied: number }>();

  /** The grants and permissions of an account in a region, with every record that arrived since the last call applied. */
  grantsState(accountId: string, region: string): SimGrantsRegion {
    const records = this.account(accountId).events[region] ?? [];
    const key = `${accountId}:${region}`;
    const entry = this.grants.get(key) ?? { state: { kmsGrants: {}, keys: [], functions: {}, shares: {} }, applied: 0 };
    for (const r of records.slice(entry.applied)) applyGrantsRecord(entry.state, r, accountId, region);
    this.grants.set(key, { state: entry.state, applied: records.length });
    return entry.state;
  }

  /** How many of each account's and region's CloudTrail records the EC2 state has taken in. */
  private ec2Applied = new Map<string, number>();

  /** The EC2 state of an account in a region, with every record that arrived since the last call applied. */
  ec2State(accountId: string, region: string): SimEc2 {
    const a = this.account(accountId);
    const state = ((a.ec2 ??= {})[region] ??= { images: {}, securityGroups: {}, instances: {}, snapshots: {} });
    const records = a.events[region] ?? [];
    const key = `${accountId}:${region}`;
    for (const r of records.slice(this.ec2Applied.get(key) ?? 0)) applyEc2Record(state, r);
    this.ec2Applied.set(key, records.length);
    return state;
  }

  /** The EC2 calls the exposure undos make, with EC2's error codes (its ServiceException named by the code). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- SDK command inputs read field by field
  private ec2Call(accountId: string, region: string, name: string, input: Record<string, any>): unknown {
    const ec2 = this.ec2State(accountId, region);
    const change = (what: string, target: string) => this.changes.push({ at: this.timer.now(), accountId, change: what, target });
    switch (name) {
      case 'DescribeSecurityGroupRulesCommand': {
        const groups = ((input['Filters'] ?? []) as { Name: string; Values: string[] }[]).find((f) => f.Name === 'group-id')?.Values;
        const rules = Object.entries(ec2.securityGroups)
          .filter(([id]) => !groups || groups.includes(id))
          .flatMap(([id, g]) => g.rules.map((r) => ({ ...r, GroupId: id, GroupOwnerId: accountId, IsEgress: false })));
        return { SecurityGroupRules: rules };
      }
      case 'RevokeSecurityGroupIngressCommand': {
        const id = String(input['GroupId']);
        const group = ec2.securityGroups[id];
        if (!group) throw new SimError('InvalidGroup.NotFound', `The security group '${id}' does not exist`, 400);
        const ids = (input['SecurityGroupRuleIds'] ?? []) as string[];
        if (ids.length) {
          const missing = ids.filter((r) => !group.rules.some((x) => x.SecurityGroupRuleId === r));
          if (missing.length)
            throw new SimError('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${missing[0]}' does not exist`, 400);
          group.rules = group.rules.filter((x) => !ids.includes(x.SecurityGroupRuleId));
          for (const r of ids) change('ec2-revoke-ingress', `${id}/${r}`);
          return { Return: true };
        }
        const ranges = ((input['IpPermissions'] ?? []) as ec2Sdk.IpPermission[]).flatMap((p) =>
          [...(p.IpRanges ?? []).map((r) => r.CidrIp), ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6)].map((cidr) => ({ ...p, cidr })),
        );
        const matches = (x: SimEc2['securityGroups'][string]['rules'][number], p: (typeof ranges)[number]) =>
          x.IpProtocol === p.IpProtocol && x.FromPort === p.FromPort && x.ToPort === p.ToPort && (x.CidrIpv4 ?? x.CidrIpv6) === p.cidr;
        const unknown = ranges.filter((p) => !group.rules.some((x) => matches(x, p)));
        if (unknown.length)
          throw new SimError('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.', 400);
        const gone = group.rules.filter((x) => ranges.some((p) => matches(x, p)));
        group.rules = group.rules.filter((x) => !gone.includes(x));
        for (const r of gone) change('ec2-revoke-ingress', `${id}/${r.SecurityGroupRuleId}`);
        return { Return: true };
      }
      case 'DescribeImageAttributeCommand':
      case 'ModifyImageAttributeCommand': {
        const id = String(input['ImageId']);
        const image = ec2.images[id];
        if (!image) throw new SimError('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`, 400);
        if (name === 'DescribeImageAttributeCommand') {
          if (input['Attribute'] !== 'launchPermission')
            throw new SimError(
              'UnsupportedOperation',
              `The simulated account answers only launchPermission, not ${input['Attribute']}`,
              400,
            );
          return { ImageId: id, LaunchPermissions: image.launchPermissions };
        }
        const lp = (input['LaunchPermission'] ?? {}) as ec2Sdk.LaunchPermissionModifications;
        const same = (a: { Group?: string; UserId?: string }, b: { Group?: string; UserId?: string }) =>
          a.Group === b.Group && a.UserId === b.UserId;
        image.launchPermissions = image.launchPermissions.filter((p) => !(lp.Remove ?? []).some((r) => same(p, r)));
        for (const add of lp.Add ?? []) if (!image.launchPermissions.some((p) => same(p, add))) image.launchPermissions.push(add);
        for (const r of lp.Remove ?? []) change('ec2-remove-launch-permission', `${id}/${r.Group ?? r.UserId}`);
        return {};
      }
      case 'DescribeSnapshotAttributeCommand':
      case 'ModifySnapshotAttributeCommand': {
        const id = String(input['SnapshotId']);
        const snapshot = ec2.snapshots[id];
        if (!snapshot) throw new SimError('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`, 400);
        if (input['Attribute'] !== 'createVolumePermission')
          throw new SimError(
            'UnsupportedOperation',
            `The simulated account answers only createVolumePermission, not ${input['Attribute']}`,
            400,
          );
        if (name === 'DescribeSnapshotAttributeCommand')
          return { SnapshotId: id, CreateVolumePermissions: snapshot.createVolumePermissions };
        // Either form EC2 takes: CreateVolumePermission {Add, Remove}, or OperationType with UserIds / GroupNames (what the CLI's --user-ids sends).
        const listed = [
          ...((input['GroupNames'] ?? []) as string[]).map((Group) => ({ Group })),
          ...((input['UserIds'] ?? []) as string[]).map((UserId) => ({ UserId })),
        ];
        const cv = (input['CreateVolumePermission'] ??
          (input['OperationType'] === 'add'
            ? { Add: listed }
            : input['OperationType'] === 'remove'
              ? { Remove: listed }
              : {})) as ec2Sdk.CreateVolumePermissionModifications;
        const same = (a: { Group?: string; UserId?: string }, b: { Group?: string; UserId?: string }) =>
          a.Group === b.Group && a.UserId === b.UserId;
        snapshot.createVolumePermissions = snapshot.createVolumePermissions.filter((p) => !(cv.Remove ?? []).some((r) => same(p, r)));
        for (const add of cv.Add ?? [])
          if (!snapshot.createVolumePermissions.some((p) => same(p, add))) snapshot.createVolumePermissions.push(add);
        for (const r of cv.Remove ?? []) change('ec2-remove-snapshot-share', `${id}/${r.Group ?? r.UserId}`);
        return {};
      }
      case 'DescribeInstancesCommand':
      case 'StopInstancesCommand': {
        const ids = (input['InstanceIds'] ?? Object.keys(ec2.instances)) as string[];
        const missing = ids.filter((id) => !ec2.instances[id]);
        if (missing.length) throw new SimError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`, 400);
        if (name === 'DescribeInstancesCommand')
          return {
            Reservations: ids.map((id) => ({
              Instances: [{ InstanceId: id, InstanceType: ec2.instances[id]!.InstanceType, State: { Name: ec2.instances[id]!.State } }],
            })),
          };
        const gone = ids.filter((id) => ['shutting-down', 'terminated'].includes(ec2.instances[id]!.State));
        if (gone.length)
          throw new SimError('IncorrectInstanceState', `This instance '${gone[0]}' is not in a state from which it can be stopped.`, 400);
        return {
          StoppingInstances: ids.map((id) => {
            const i = ec2.instances[id]!;
            const previous = i.State;
            if (previous !== 'stopped') {
              i.State = 'stopped';
              change('ec2-stop-instance', id);
            }
            return {
              InstanceId: id,
              PreviousState: { Name: previous },
              CurrentState: { Name: previous === 'stopped' ? 'stopped' : 'stopping' },
            };
          }),
        };
      }
      default:
        throw new SimError('UnsupportedOperation', `The simulated account does not implement ${name}`, 400);
    }
  }

  /** The SCP calls, as the Organizations API Reference lists their errors; only the management account or a delegated administrator. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- SDK command inputs read field by field
  private serviceControlPolicies(principal: Principal, name: string, input: Record<string, any>): unknown {
    const org = this.world.organization;
    if (!org) throw new SimError('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.', 400);
    if (principal.accountId !== org.managementAccountId && !org.delegatedAdmins.includes(principal.accountId))
      throw new SimError('AccessDeniedException', `${name} is available only to the management account or a delegated administrator`, 403);
    const policies = (org.policies ??= []);
    const attachments = (org.attachments ??= {});
    const FULL = {
      Id: 'p-FullAWSAccess',
      Arn: 'arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess',
      Name: 'FullAWSAccess',
      Type: 'SERVICE_CONTROL_POLICY',
      AwsManaged: true,
    };
    const summary = (p: { Id: string; Name: string }) => ({
      Id: p.Id,
      Arn: `arn:aws:organizations::${org.managementAccountId}:policy/${org.id}/service_control_policy/${p.Id}`,
      Name: p.Name,
      Type: 'SERVICE_CONTROL_POLICY',
      AwsManaged: false,
    });
    const requireScpFilter = () => {
      if (input['Filter'] !== 'SERVICE_CONTROL_POLICY')
        throw new SimError('InvalidInputException', 'Filter: only SERVICE_CONTROL_POLICY is modelled', 400);
    };
    const target = () => {
      const id = String(input['TargetId'] ?? '');
      if (!this.world.accounts[id])
        throw new SimError('TargetNotFoundException', `We can't find a root, OU, account, or email with the TargetId ${id}.`, 400);
      return id;
    };
    const policy = () => {
      const p = policies.find((x) => x.Id === input['PolicyId']);
      if (!p) throw new SimError('PolicyNotFoundException', `We can't find a policy with the PolicyId ${String(input['PolicyId'])}.`, 400);
      return p;
    };
    switch (name) {
      case 'ListPoliciesCommand':
        requireScpFilter();
        return { Policies: [FULL, ...policies.map(summary)] };
      case 'ListPoliciesForTargetCommand': {
        requireScpFilter();
        const id = target();
        return { Policies: [FULL, ...(attachments[id] ?? []).map((pid) => summary(policies.find((p) => p.Id === pid)!))] };
      }
      case 'CreatePolicyCommand': {
        if (input['Type'] !== 'SERVICE_CONTROL_POLICY')
          throw new SimError('InvalidInputException', 'Type: only SERVICE_CONTROL_POLICY is modelled', 400);
        const content = String(input['Content'] ?? '');
        try {
          JSON.parse(content);
        } catch {
          throw new SimError(
            'MalformedPolicyDocumentException',
            'The provided policy document does not meet the requirements of the specified policy type.',
            400,
          );
        }
        if (content.length > 5120)
          throw new SimError('ConstraintViolationException', 'The policy is larger than the 5,120 characters an SCP may hold.', 400);
        if (policies.some((p) => p.Name === input['Name']))
          throw new SimError('DuplicatePolicyException', 'A policy with the same name already exists.', 400);
        const p = { Id: `p-${randomBytes(4).toString('hex')}`, Name: String(input['Name']), Content: content };
        policies.push(p);
        this.changes.push({ at: this.timer.now(), accountId: principal.accountId, change: 'create-scp', target: p.Name });
        return { Policy: { PolicySummary: summary(p), Content: content } };
      }
      case 'AttachPolicyCommand': {
        const p = policy();
        const id = target();
        const list = (attachments[id] ??= []);
        if (list.includes(p.Id))
          throw new SimError('DuplicatePolicyAttachmentException', 'The selected policy is already attached to the specified target.', 400);
        list.push(p.Id);
        this.changes.push({ at: this.timer.now(), accountId: id, change: 'attach-scp', target: p.Name });
        return {};
      }
      default: {
        const p = policy();
        const id = target();
        const list = attachments[id] ?? [];
        if (!list.includes(p.Id))
          throw new SimError('PolicyNotAttachedException', 'The policy is not attached to the specified target.', 400);
        attachments[id] = list.filter((x) => x !== p.Id);
        this.changes.push({ at: this.timer.now(), accountId: id, change: 'detach-scp', target: p.Name });
        return {};
      }
    }
  }

  private iamRole(accountId: string, roleName: string): NonNullable<SimAccount['roles']>[number] {
    const role = (this.account(accountId).roles ?? []).find((r) => r.RoleName === roleName);
    if (!role) throw new SimError('NoSuchEntityException', `The role with name ${roleName} cannot be found.`, 404);
    return role;
  }

  /**
   * One page of an IAM list, as IAM pages: MaxItems (1 to 1000) items, 100 when it is not given,
   * IsTruncated and an opaque Marker to continue from.
   */
  private iamPage<T, R extends object>(
    items: T[],
    input: Record<string, unknown>,
    wrap: (page: T[]) => R,
  ): R & { IsTruncated: boolean; Marker?: string } {
    const max = Number(input['MaxItems'] ?? 100);
    if (!Number.isInteger(max) || max < 1 || max > 1000) throw new SimError('ValidationError', 'MaxItems must be between 1 and 1000', 400);
    let start = 0;
    if (input['Marker'] !== undefined) {
      const m = /^page:(\d+)$/.exec(Buffer.from(asText(input['Marker']), 'base64url').toString('utf8'));
      if (!m) throw new SimError('ValidationError', 'Invalid Marker', 400);
      start = Number(m[1]);
    }
    const end = start + max;
    return {
      ...wrap(items.slice(start, end)),
      IsTruncated: end < items.length,
      ...(end < items.length ? { Marker: Buffer.from(`page:${end}`).toString('base64url') } : {}),
    };
  }

  private iamUser(accountId: string, userName: string): SimAccount['iamUsers'][number] {
    const user = this.account(accountId).iamUsers.find((u) => u.UserName === userName);
    if (!user) throw new SimError('NoSuchEntityException', `The user with name ${userName} cannot be found.`, 404);
    return user;
  }

  /** The Account API acts on the caller's account, or a member account named by AccountId (from the management account). */
  private targetAccount(principal: Principal, input: Record<string, unknown>): SimAccount {
    const target = input['AccountId'];
    if (target === undefined) return this.account(principal.accountId);
    const org = this.world.organization;
    if (target === principal.accountId)
      throw new SimError('ValidationException', 'AccountId: omit it when calling for your own account', 400);
    if (!org || (principal.accountId !== org.managementAccountId && !org.delegatedAdmins.includes(principal.accountId)))
      throw new SimError('AccessDeniedException', 'Only the management account or a delegated admin may name AccountId', 403);
    return this.account(asText(target));
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- LookupEvents input read field by field, as CloudTrail would
  private lookupEvents(accountId: string, region: string, input: Record<string, any>): unknown {
    const key = `${accountId}:${region}`;
    const now = this.timer.now();
    const recent = (this.lookupCalls.get(key) ?? []).filter((t) => t > now - 1000);
    recent.push(now);
    this.lookupCalls.set(key, recent);
    if (recent.length > 2) throw new SimError('ThrottlingException', 'Rate exceeded', 400);
    const attributes = (input['LookupAttributes'] ?? []) as { AttributeKey: string; AttributeValue: string }[];
    if (attributes.length > 1)
      throw new SimError('InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute.', 400);
    const max = Number(input['MaxResults'] ?? 50);
    if (max < 1 || max > 50) throw new SimError('InvalidMaxResultsException', 'MaxResults must be between 1 and 50.', 400);
    const start = input['StartTime'] ? new Date(input['StartTime'] as string | number | Date).getTime() : 0;
    const end = input['EndTime'] ? new Date(input['EndTime'] as string | number | Date).getTime() : Infinity;
    if (start > end) throw new SimError('InvalidTimeRangeException', 'StartTime must be before EndTime.', 400);
    const params = JSON.stringify({ attributes, start, end, max });
    let offset = 0;
    if (input['NextToken']) {
      const token = this.tokens.get(String(input['NextToken']));
      if (!token || token.params !== params)
        throw new SimError('InvalidNextTokenException', 'Invalid NextToken: it was issued for other parameters.', 400);
      offset = token.offset;
    }
    const matching = (this.account(accountId).events[region] ?? [])
      .filter((r) => {
        const t = new Date(String(r['eventTime'])).getTime();
        return t >= start && t <= end && attributes.every((a) => matchesAttribute(r, a));
      })
      .sort((a, b) => new Date(String(b['eventTime'])).getTime() - new Date(String(a['eventTime'])).getTime());
    const page = matching.slice(offset, offset + max);
    let nextToken: string | undefined;
    if (offset + max < matching.length) {
      nextToken = randomBytes(12).toString('base64url');
      this.tokens.set(nextToken, { params, offset: offset + max });
    }
    return {
      Events: page.map((r) => ({
        EventId: r['eventID'],
        EventName: r['eventName'],
        EventTime: new Date(String(r['eventTime'])),
        EventSource: r['eventSource'],
        Username: usernameOf(r),
        CloudTrailEvent: JSON.stringify(r),
      })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }
}

/** An account as Organizations describes it (ListAccounts, DescribeAccount). */
function organizationAccount(org: SimOrganization, a: SimAccount) {
  return {
    Id: a.accountId,
    Arn: `arn:aws:organizations::${org.managementAccountId}:account/${org.id}/${a.accountId}`,
    Email: a.email,
    Name: a.name,
    Status: 'ACTIVE',
    State: 'ACTIVE',
    JoinedMethod: 'CREATED',
    JoinedTimestamp: new Date('2019-06-01T00:00:00Z'),
  };
}

function trailArn(accountId: string, trail: SimAccount['trails'][number]): string {
  return trail.TrailARN ?? `arn:aws:cloudtrail:${trail.HomeRegion}:${accountId}:trail/${trail.Name}`;
}

/** A trail name as the ARN CloudTrail's not-found message shows (an ARN stays as it is). */
function trailArnOf(nameOrArn: string, region: string, accountId: string): string {
  return nameOrArn.startsWith('arn:') ? nameOrArn : `arn:aws:cloudtrail:${region}:${accountId}:trail/${nameOrArn}`;
}

/** LookupEvents' Username: "root" for the root user, the IAM user name, the role session name. */
export function usernameOf(record: JsonObject): string | undefined {
  const identity = (record['userIdentity'] ?? {}) as JsonObject;
  if (identity['type'] === 'Root') return 'root';
  if (typeof identity['userName'] === 'string') return identity['userName'];
  const arn = asText(identity['arn'] ?? '');
  return arn.includes('/') ? arn.split('/').pop() : undefined;
}

function matchesAttribute(record: JsonObject, attribute: { AttributeKey: string; AttributeValue: string }): boolean {
  const identity = (record['userIdentity'] ?? {}) as JsonObject;
  switch (attribute.AttributeKey) {
    case 'Username':
      return usernameOf(record) === attribute.AttributeValue;
    case 'EventSource':
      return record['eventSource'] === attribute.AttributeValue;
    case 'EventName':
      return record['eventName'] === attribute.AttributeValue;
    case 'AccessKeyId':
      return identity['accessKeyId'] === attribute.AttributeValue;
    case 'ReadOnly':
      return String(record['readOnly']) === attribute.AttributeValue;
    case 'EventId':
      return record['eventID'] === attribute.AttributeValue;
    default:
      return false;
  }
}

/** What one CloudTrail record did to EC2, applied to the simulated state (failed calls changed nothing). */
function applyEc2Record(ec2: SimEc2, r: JsonObject): void {
  if (r['errorCode'] || r['eventSource'] !== 'ec2.amazonaws.com') return;
  const asObject = (v: unknown): JsonObject => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : {});
  const itemsOf = (v: unknown): JsonObject[] => {
    const list = asObject(v)['items'] ?? v;
    return Array.isArray(list) ? list.map(asObject) : [];
  };
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const port = (v: unknown) => (text(v) !== undefined ? Number(text(v)) : undefined);
  const p = asObject(r['requestParameters']);
  const res = asObject(r['responseElements']);
  const grantee = (g: JsonObject) => (text(g['group']) ? { Group: text(g['group'])! } : { UserId: text(g['userId']) ?? '?' });
  const same = (a: { Group?: string; UserId?: string }, b: { Group?: string; UserId?: string }) =>
    a.Group === b.Group && a.UserId === b.UserId;
  const rule = (id: string, x: JsonObject, cidr: string | undefined) => ({
    SecurityGroupRuleId: id,
    IpProtocol: text(x['ipProtocol']) ?? '-1',
    ...(port(x['fromPort']) !== undefined ? { FromPort: port(x['fromPort'])! } : {}),
    ...(port(x['toPort']) !== undefined ? { ToPort: port(x['toPort'])! } : {}),
    ...(cidr?.includes(':') ? { CidrIpv6: cidr } : cidr ? { CidrIpv4: cidr } : {}),
  });
  switch (r['eventName']) {
    case 'ModifyImageAttribute': {
      const image = (ec2.images[text(p['imageId']) ?? '?'] ??= { launchPermissions: [] });
      const lp = asObject(p['launchPermission']);
      for (const g of itemsOf(lp['add']).map(grantee))
        if (!image.launchPermissions.some((x) => same(x, g))) image.launchPermissions.push(g);
      const removed = itemsOf(lp['remove']).map(grantee);
      image.launchPermissions = image.launchPermissions.filter((x) => !removed.some((g) => same(x, g)));
      return;
    }
    case 'ModifySnapshotAttribute': {
      const snapshot = (ec2.snapshots[text(p['snapshotId']) ?? '?'] ??= { createVolumePermissions: [] });
      const cv = asObject(p['createVolumePermission']);
      for (const g of itemsOf(cv['add']).map(grantee))
        if (!snapshot.createVolumePermissions.some((x) => same(x, g))) snapshot.createVolumePermissions.push(g);
      const removed = itemsOf(cv['remove']).map(grantee);
      snapshot.createVolumePermissions = snapshot.createVolumePermissions.filter((x) => !removed.some((g) => same(x, g)));
      return;
    }
    case 'AuthorizeSecurityGroupIngress': {
      const group = (ec2.securityGroups[text(p['groupId']) ?? '?'] ??= { rules: [] });
      const recorded = itemsOf(res['securityGroupRuleSet']);
      if (recorded.length) {
        for (const x of recorded)
          group.rules.push(rule(text(x['securityGroupRuleId']) ?? '?', x, text(x['cidrIpv4']) ?? text(x['cidrIpv6'])));
        return;
      }
      for (const perm of itemsOf(p['ipPermissions']))
        for (const cidr of [
          ...itemsOf(perm['ipRanges']).map((x) => text(x['cidrIp'])),
          ...itemsOf(perm['ipv6Ranges']).map((x) => text(x['cidrIpv6'])),
        ])
          group.rules.push(rule(`sgr-${randomBytes(8).toString('hex').slice(0, 17)}`, perm, cidr));
      return;
    }
    case 'RunInstances':
      for (const i of itemsOf(res['instancesSet']))
        ec2.instances[text(i['instanceId']) ?? '?'] = {
          State: 'running',
          InstanceType: text(i['instanceType']) ?? text(p['instanceType']) ?? '',
        };
      return;
    default:
  }
}
