import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import {
  AccessDeniedException as AccountAccessDeniedException,
  AccountClient,
  GetAccountInformationCommand,
  GetContactInformationCommand,
  GetPrimaryEmailCommand,
  ListRegionsCommand,
  ValidationException as AccountValidationException,
} from '@aws-sdk/client-account';
import {
  CloudTrailClient,
  InvalidLookupAttributesException,
  LookupEventsCommand,
  InvalidMaxResultsException,
  InvalidNextTokenException,
  InvalidTimeRangeException,
  type LookupEventsCommandInput,
} from '@aws-sdk/client-cloudtrail';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  type UpdateTimeToLiveCommandInput,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EC2Client } from '@aws-sdk/client-ec2';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DisassociateResourceShareCommand, RAMClient } from '@aws-sdk/client-ram';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import {
  AccountNotManagementOrDelegatedAdministratorException,
  CreateLoginProfileCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  DeactivateMFADeviceCommand,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  DeleteSigningCertificateCommand,
  EnableMFADeviceCommand,
  GetLoginProfileCommand,
  IAMClient,
  IAMServiceException,
  ListAccessKeysCommand,
  ListMFADevicesCommand,
  ListOrganizationsFeaturesCommand,
  ListSigningCertificatesCommand,
  OrganizationNotFoundException,
  UploadSigningCertificateCommand,
  CreateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateAccountCommand,
  CreateOrganizationCommand,
  DescribeOrganizationCommand,
  ListAccountsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { CreateBucketCommand, PutObjectLockConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InvalidToken, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { AssumeRootCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TargetClients, TempCredentials } from '#shared/clients';
import type { JsonObject } from '#shared/cloudtrail';
import type { LimiterPool, Timer } from '#shared/rate-limit';
import { usernameOf } from '#drill/simulated-aws';
import { PROJECT_ROOT } from '#drill/deployment';
import { assertLoopback, INSTALL_HINT, motoInstalled, runDir, type MotoServer, startMoto, stopMoto, workerServer } from './moto-server';
import { MANIFEST } from './manifest';

/**
 * The contract layer's view of moto: real SDK v3 clients (the project's own packages) pointed at
 * moto_server on 127.0.0.1 with dummy credentials, wrapped only to record what each step sent.
 * Where moto lacks an operation, just that command is answered by a stub here (see STUBS below and
 * manifest.ts, which says why for each); everything else goes to moto over HTTP.
 */
export const ACCOUNT = '123456789012'; // moto's default account: the responder's, standalone
export const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
/** The evidence bucket the contract tests write to and read from (evidenceBucket makes it). */
export const EVIDENCE_BUCKET = 'root-responder-test-evidence';
/** What clients.ts gives every deployed client. */
const RETRY = { maxAttempts: 4, retryMode: 'adaptive' } as const;

// ---------------------------------------------------------------- skipping, server lifetime

const installed = motoInstalled();
/** Under CI=true the contract tests run whatever happens: without moto they fail, saying how to install it. */
export const motoRuns = installed || process.env['CI'] === 'true';

/** `describe` when moto_server is here (or under CI), else `describe.skip` with how to install it. */
export function describeMoto(title: string, body: () => void): void {
  if (!motoRuns) {
    console.warn(`contract tests "${title}": skipped, moto_server is not installed. Install it with: ${INSTALL_HINT}`);
    describe.skip(title, body);
    return;
  }
  describe(title, body);
}

// ---------------------------------------------------------------- recording

export type SentTo = 'moto' | 'stub' | 'moto-root-stand-in';
export interface Sent {
  command: string;
  to: SentTo;
  input: Record<string, unknown>;
  output?: Record<string, unknown>;
  error?: string;
}

/** Every command the steps sent in this test file, in order, and where it went. */
export const sent: Sent[] = [];
export const sentNamed = (command: string) => sent.filter((s) => s.command === command);
/** What is sent from now on: `const sentNow = watchSent()` at the start of a test, then `sentNow(command)`. */
export function watchSent(): (command: string) => Sent[] {
  const from = sent.length;
  return (command) => sent.slice(from).filter((s) => s.command === command);
}

type AnyCommand = { input: object; constructor: { name: string } };
interface Sender {
  send(command: AnyCommand): Promise<unknown>;
}
/**
 * A stub's answer to one command, or a promise of it; a throw is the service's error (recorded()
 * records it and rejects with it, as the SDK's send() does).
 */
type Stub = (input: object) => unknown;

function recorded<T>(
  client: Sender,
  options: { stubs?: Record<string, Stub>; to?: (command: string) => SentTo; rewrite?: (command: AnyCommand) => AnyCommand } = {},
): T {
  return {
    send: async (command: AnyCommand) => {
      const name = command.constructor.name;
      const stub = options.stubs?.[name];
      const entry: Sent = { command: name, to: stub ? 'stub' : (options.to?.(name) ?? 'moto'), input: { ...command.input } };
      sent.push(entry);
      try {
        const output = stub ? await stub(command.input) : await client.send(options.rewrite ? options.rewrite(command) : command);
        entry.output = output as Record<string, unknown>;
        return output;
      } catch (error) {
        entry.error = (error as Error).name;
        throw error;
      }
    },
  } as T;
}

// ---------------------------------------------------------------- the stubs' data

/** What the stubs answer for one account (the parts of AWS moto does not model). */
export interface AccountStubs {
  /** account:ListRegions */
  regions: string[];
  /** account:GetContactInformation */
  contactInformation: Record<string, string>;
  /** account:GetAccountInformation */
  accountName: string;
  createdAt: Date;
  /** account:GetPrimaryEmail (asked by the management account for a member) */
  primaryEmail: string;
  /** AWS refuses GetPrimaryEmail while trusted access for AWS Account Management is off. */
  primaryEmailRefused: boolean;
  /** cloudtrail:LookupEvents, per region */
  events: Record<string, JsonObject[]>;
}

const defaultStubs = (accountId: string): AccountStubs => ({
  regions: ['us-east-1'],
  contactInformation: {
    FullName: 'Example Corp',
    AddressLine1: '1 Main St',
    City: 'Seattle',
    CountryCode: 'US',
    PhoneNumber: '+1-206-555-0100',
    PostalCode: '98101',
  },
  accountName: `account-${accountId}`,
  createdAt: new Date('2019-06-01T00:00:00Z'),
  primaryEmail: `root+${accountId}@example.com`,
  primaryEmailRefused: false,
  events: {},
});

/** The organization features iam:ListOrganizationsFeatures reports (moto has no such operation). */
export type OrganizationFeature = 'RootCredentialsManagement' | 'RootSessions';

/** moto has no root user: IAM calls in an AssumeRoot session act on this IAM user instead (see rootSessionIam). */
export const ROOT_STAND_IN = 'root-stand-in';
/** The IAM commands that act on the caller (root) when UserName is omitted. */
const ROOT_CREDENTIAL_COMMANDS = new Set(
  [
    ListAccessKeysCommand,
    ListSigningCertificatesCommand,
    ListMFADevicesCommand,
    GetLoginProfileCommand,
    DeleteAccessKeyCommand,
    DeleteSigningCertificateCommand,
    DeactivateMFADeviceCommand,
    DeleteLoginProfileCommand,
  ].map((c) => c.name),
);

export const SIGNING_CERTIFICATE = readFileSync(join(PROJECT_ROOT, 'tests/fixtures/written/signing-certificate__written.pem'), 'utf8');

const PAGE = 10;

/** What createTables reads from a table in serverless.yml: the properties CreateTable and UpdateTimeToLive take as they are. */
type TableProperties = Pick<CreateTableCommandInput, 'AttributeDefinitions' | 'KeySchema' | 'BillingMode'> &
  Pick<UpdateTimeToLiveCommandInput, 'TimeToLiveSpecification'>;

// ---------------------------------------------------------------- the moto world

export class MotoAws {
  readonly stubs = new Map<string, AccountStubs>();
  organizationFeatures: OrganizationFeature[] = [];
  /** AssumeRoot sessions the stub opened: key id -> member account and task policy. */
  readonly rootSessions = new Map<string, { accountId: string; policy: string }>();
  /** Task tokens a test issued (as a waitForTaskToken state would); each may be answered once. */
  private readonly tokens = new Map<string, 'waiting' | 'answered'>();
  private readonly clients = new Map<string, unknown>();
  private readonly lookupTokens = new Map<string, { params: string; offset: number }>();

  constructor(readonly endpoint: string) {
    assertLoopback(endpoint);
  }

  /** The settings every client here gets: moto's endpoint on the loopback, dummy credentials (or a stubbed session's), a region. */
  config(region = 'us-east-1', credentials: TempCredentials | typeof CREDENTIALS = CREDENTIALS) {
    return { ...RETRY, region, endpoint: assertLoopback(this.endpoint), credentials };
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches any SDK middleware add() signature
  private make<T extends { middlewareStack: { add: (...args: any[]) => void } }>(key: string, build: () => T, accountId: string): T {
    if (!this.clients.has(key)) {
      const client = build();
      // moto serves several accounts from one server, told apart by this header (the stand-in for a member role).
      if (accountId !== ACCOUNT) {
        client.middlewareStack.add(
          (next: (args: { request: { headers: Record<string, string> } }) => unknown) =>
            (args: { request: { headers: Record<string, string> } }) => {
              args.request.headers['x-moto-account-id'] = accountId;
              return next(args);
            },
          { step: 'build', name: 'motoAccountHeader' },
        );
      }
      this.clients.set(key, client);
    }
    return this.clients.get(key) as T;
  }

  // Unrecorded clients for seeding and for reading back what a step did.
  iamAdmin = (accountId = ACCOUNT) => this.make(`iam:${accountId}`, () => new IAMClient(this.config('us-east-1')), accountId);
  organizationsAdmin = (accountId = ACCOUNT) =>
    this.make(`org:${accountId}`, () => new OrganizationsClient(this.config('us-east-1')), accountId);
  accountAdmin = (accountId = ACCOUNT) => this.make(`account:${accountId}`, () => new AccountClient(this.config('us-east-1')), accountId);
  cloudtrailAdmin = (region: string, accountId = ACCOUNT) =>
    this.make(`ct:${region}:${accountId}`, () => new CloudTrailClient(this.config(region)), accountId);
  guarddutyAdmin = (region: string, accountId = ACCOUNT) =>
    this.make(`gd:${region}:${accountId}`, () => new GuardDutyClient(this.config(region)), accountId);
  ec2Admin = (region: string, accountId = ACCOUNT) =>
    this.make(`ec2:${region}:${accountId}`, () => new EC2Client(this.config(region)), accountId);
  eventsAdmin = (region: string, accountId = ACCOUNT) =>
    this.make(`events:${region}:${accountId}`, () => new EventBridgeClient(this.config(region)), accountId);
  s3Admin = () => this.make('s3', () => new S3Client({ ...this.config(), forcePathStyle: true }), ACCOUNT);
  /** The target account's own buckets (the evidence bucket is s3Admin's). */
  targetS3Admin = (region: string, accountId = ACCOUNT) =>
    this.make(`s3:${region}:${accountId}`, () => new S3Client({ ...this.config(region), forcePathStyle: true }), accountId);
  /** S3 Control puts the account id in front of the host (`<account>.<endpoint>`), which an address on the loopback cannot take: moto's own endpoint, as is. */
  s3controlAdmin = (region: string, accountId = ACCOUNT) =>
    this.make(
      `s3control:${region}:${accountId}`,
      () => new S3ControlClient({ ...this.config(region), endpointProvider: () => ({ url: new URL(assertLoopback(this.endpoint)) }) }),
      accountId,
    );
  rdsAdmin = (region: string, accountId = ACCOUNT) =>
    this.make(`rds:${region}:${accountId}`, () => new RDSClient(this.config(region)), accountId);
  kmsAdmin = (region: string, accountId = ACCOUNT) =>
    this.make(`kms:${region}:${accountId}`, () => new KMSClient(this.config(region)), accountId);
  lambdaAdmin = (region: string, accountId = ACCOUNT) =>
    this.make(`lambda:${region}:${accountId}`, () => new LambdaClient(this.config(region)), accountId);
  ramAdmin = (region: string, accountId = ACCOUNT) =>
    this.make(`ram:${region}:${accountId}`, () => new RAMClient(this.config(region)), accountId);
  dynamodbAdmin = () => this.make('ddb', () => new DynamoDBClient(this.config()), ACCOUNT);
  sfnAdmin = () => this.make('sfn', () => new SFNClient(this.config()), ACCOUNT);
  snsAdmin = () => this.make('sns', () => new SNSClient(this.config()), ACCOUNT);
  secretsAdmin = () => this.make('sm', () => new SecretsManagerClient(this.config()), ACCOUNT);

  /** What the stubs answer for an account (defaults filled in). */
  stub(accountId: string, values: Partial<AccountStubs> = {}): AccountStubs {
    const current = this.stubs.get(accountId) ?? defaultStubs(accountId);
    const next = { ...current, ...values };
    this.stubs.set(accountId, next);
    return next;
  }

  private stubsOf(accountId: string): AccountStubs {
    return this.stubs.get(accountId) ?? this.stub(accountId);
  }

  // ---------------------------------------------------------------- what the steps get

  /** The deps a handler builds with `targetClients(...)`, on moto: `accountId` stands for the account its role acts in. */
  target(accountId = ACCOUNT): TargetClients {
    return {
      iam: (session) =>
        session
          ? this.rootSessionIam(session)
          : recorded(this.iamAdmin(accountId), {
              stubs: { [ListOrganizationsFeaturesCommand.name]: () => this.listOrganizationsFeatures(accountId) },
            }),
      sts: (region) =>
        recorded(
          this.make(`sts:${region}:${accountId}`, () => new STSClient(this.config(region)), accountId),
          { stubs: { [AssumeRootCommand.name]: (input) => this.assumeRoot(accountId, region, input) } },
        ),
      cloudtrail: (region) =>
        recorded(this.cloudtrailAdmin(region, accountId), {
          stubs: { [LookupEventsCommand.name]: (input) => this.lookupEvents(accountId, region, input) },
        }),
      account: () =>
        recorded(this.accountAdmin(accountId), {
          stubs: {
            [GetContactInformationCommand.name]: (input) =>
              Promise.resolve({
                ContactInformation: this.stubsOf(this.accountNamed(accountId, input)).contactInformation,
              }),
            [GetAccountInformationCommand.name]: (input) => {
              const target = this.accountNamed(accountId, input);
              return {
                AccountId: target,
                AccountName: this.stubsOf(target).accountName,
                AccountCreatedDate: this.stubsOf(target).createdAt,
              };
            },
            [GetPrimaryEmailCommand.name]: (input) => this.getPrimaryEmail(accountId, input),
            [ListRegionsCommand.name]: (input) => Promise.resolve(this.listRegions(this.accountNamed(accountId, input), input)),
          },
        }),
      organizations: () => recorded(this.organizationsAdmin(accountId)),
      guardduty: (region) => recorded(this.guarddutyAdmin(region, accountId)),
      events: (region) => recorded(this.eventsAdmin(region, accountId)),
      ec2: (region) => recorded(this.ec2Admin(region, accountId)),
      s3: (region) => recorded(this.targetS3Admin(region, accountId)),
      s3control: (region) => recorded(this.s3controlAdmin(region, accountId)),
      rds: (region) => recorded(this.rdsAdmin(region, accountId)),
      kms: (region) => recorded(this.kmsAdmin(region, accountId)),
      lambda: (region) => recorded(this.lambdaAdmin(region, accountId)),
      ram: (region) =>
        recorded(this.ramAdmin(region, accountId), {
          stubs: {
            // moto 5.2.1 has no ram:DisassociateResourceShare: answered as the RAM API Reference documents it.
            [DisassociateResourceShareCommand.name]: (input: { resourceShareArn?: string; principals?: string[] }) => ({
              resourceShareAssociations: (input.principals ?? []).map((p) => ({
                resourceShareArn: input.resourceShareArn,
                associatedEntity: p,
                associationType: 'PRINCIPAL',
                status: 'DISASSOCIATING',
              })),
            }),
          },
        }),
    };
  }

  documentClient(): DynamoDBDocumentClient {
    return recorded(
      this.make(
        'doc',
        () => DynamoDBDocumentClient.from(this.dynamodbAdmin(), { marshallOptions: { removeUndefinedValues: true } }),
        ACCOUNT,
      ),
    );
  }

  s3(): S3Client {
    return recorded(this.s3Admin());
  }

  sns(): SNSClient {
    return recorded(this.snsAdmin());
  }

  secretsManager(): SecretsManagerClient {
    return recorded(this.secretsAdmin());
  }

  /**
   * Step Functions on moto, but for task tokens: moto accepts SendTaskSuccess / SendTaskFailure for
   * any token and does nothing. AWS refuses a token it never issued (InvalidToken) and one already
   * answered or timed out (TaskTimedOut); that check is stubbed here, in front of moto.
   */
  sfn(): SFNClient {
    const admin = this.sfnAdmin();
    const sender = {
      send: async (command: AnyCommand) => {
        const name = command.constructor.name;
        const entry: Sent = { command: name, to: 'moto', input: { ...command.input } };
        sent.push(entry);
        try {
          if (name === 'SendTaskSuccessCommand' || name === 'SendTaskFailureCommand') {
            const token = (command.input as { taskToken?: string }).taskToken;
            const state = token ? this.tokens.get(token) : undefined;
            if (state !== 'waiting') {
              entry.to = 'stub';
              if (state === undefined) throw new InvalidToken({ message: 'Invalid Token', $metadata: { httpStatusCode: 400 } });
              throw new TaskTimedOut({ message: 'Task Timed Out', $metadata: { httpStatusCode: 400 } });
            }
            this.tokens.set(token!, 'answered');
          }
          const output = await admin.send(command as never);
          entry.output = output as unknown as Record<string, unknown>;
          return output;
        } catch (error) {
          entry.error = (error as Error).name;
          throw error;
        }
      },
    };
    return sender as unknown as SFNClient;
  }

  /** A task token as a waitForTaskToken state hands one out. */
  issueTaskToken(): string {
    const token = `AQB4AAAAKgAAAAMAAAAAAAAAA${randomBytes(48).toString('base64url')}`;
    this.tokens.set(token, 'waiting');
    return token;
  }

  /** The responder's shared CloudTrail meter uses this: virtual time, so a contract test never waits on 2 calls/s. */
  static virtualTimer(): Timer & { slept: number } {
    let now = Date.parse('2024-03-04T12:00:00Z');
    const timer = {
      slept: 0,
      now: () => now,
      sleep: (ms: number) => {
        now += ms;
        timer.slept += ms;
        return Promise.resolve();
      },
    };
    return timer;
  }

  static noLimits(): LimiterPool {
    return { for: () => ({ take: () => Promise.resolve(undefined) }) };
  }

  // ---------------------------------------------------------------- seeding

  /** The incidents and approvals tables, with the key schema and TTL serverless.yml gives them. */
  async createTables(names = { incidents: 'incidents', approvals: 'approvals' }): Promise<typeof names> {
    // serverless.yml's `resources` is a list of `{Resources: ...}` blocks (some are ${file(...)} strings).
    const blocks = (parse(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8')) as { resources: { Resources: unknown }[] }).resources;
    const resources = Object.assign({}, ...blocks.map((b) => (typeof b.Resources === 'object' ? b.Resources : {}))) as Record<
      string,
      { Properties: TableProperties }
    >;
    for (const [logicalId, table] of [
      ['IncidentsTable', names.incidents],
      ['ApprovalsTable', names.approvals],
    ] as const) {
      const p = resources[logicalId]!.Properties;
      await this.dynamodbAdmin().send(
        new CreateTableCommand({
          TableName: table,
          AttributeDefinitions: p.AttributeDefinitions,
          KeySchema: p.KeySchema,
          BillingMode: p.BillingMode,
        }),
      );
      await this.dynamodbAdmin().send(
        new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: p.TimeToLiveSpecification }),
      );
    }
    return names;
  }

  /**
   * The evidence bucket as serverless.yml makes it in a test stage: Object Lock, default retention
   * GOVERNANCE. The incident's folders (evidence/, assessment/, verification/) live in it.
   */
  async evidenceBucket(Bucket = EVIDENCE_BUCKET): Promise<string> {
    await this.s3Admin().send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
    await this.s3Admin().send(
      new PutObjectLockConfigurationCommand({
        Bucket,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } },
      }),
    );
    return Bucket;
  }

  /**
   * A member account's root credentials, on the IAM user that stands in for root (moto has no root
   * user): access keys, a signing certificate, a virtual MFA device, a password.
   */
  async seedRoot(
    accountId: string,
    root: { accessKeys?: number; signingCertificate?: boolean; mfa?: boolean; password?: boolean },
  ): Promise<{ accessKeyIds: string[]; certificateIds: string[]; mfaSerials: string[] }> {
    const iam = this.iamAdmin(accountId);
    await iam.send(new CreateUserCommand({ UserName: ROOT_STAND_IN })).catch((error: Error) => {
      if (error.name !== 'EntityAlreadyExistsException') throw error;
    });
    const accessKeyIds: string[] = [];
    for (let i = 0; i < (root.accessKeys ?? 0); i++)
      accessKeyIds.push((await iam.send(new CreateAccessKeyCommand({ UserName: ROOT_STAND_IN }))).AccessKey!.AccessKeyId!);
    const certificateIds = root.signingCertificate
      ? [
          (await iam.send(new UploadSigningCertificateCommand({ UserName: ROOT_STAND_IN, CertificateBody: SIGNING_CERTIFICATE })))
            .Certificate!.CertificateId!,
        ]
      : [];
    const mfaSerials: string[] = [];
    if (root.mfa) {
      const device = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: `root-mfa-${accountId}` }));
      await iam.send(
        new EnableMFADeviceCommand({
          UserName: ROOT_STAND_IN,
          SerialNumber: device.VirtualMFADevice!.SerialNumber!,
          AuthenticationCode1: '123456',
          AuthenticationCode2: '654321',
        }),
      );
      mfaSerials.push(device.VirtualMFADevice!.SerialNumber!);
    }
    if (root.password)
      await iam.send(new CreateLoginProfileCommand({ UserName: ROOT_STAND_IN, Password: `Pw-${randomBytes(12).toString('hex')}` }));
    else await iam.send(new DeleteLoginProfileCommand({ UserName: ROOT_STAND_IN })).catch(() => undefined);
    return { accessKeyIds, certificateIds, mfaSerials };
  }

  /** An organization (all features) with moto's default account as its management account, and member accounts. */
  async createOrganization(memberNames: string[] = []): Promise<{ organizationId: string; members: string[] }> {
    const org = this.organizationsAdmin();
    const created = await org.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const members: string[] = [];
    for (const name of memberNames) {
      const status = await org.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }));
      members.push(status.CreateAccountStatus!.AccountId!);
    }
    return { organizationId: created.Organization!.Id!, members };
  }

  // ---------------------------------------------------------------- the stubs

  /** The Account API names a member account with AccountId (from the management account); else the caller's own. */
  private accountNamed(caller: string, input: { AccountId?: string }): string {
    if (input.AccountId === undefined) return caller;
    if (input.AccountId === caller)
      throw new AccountValidationException({
        message: 'AccountId: omit it when calling for your own account',
        $metadata: { httpStatusCode: 400 },
      });
    return input.AccountId;
  }

  private getPrimaryEmail(caller: string, input: { AccountId?: string }) {
    // AWS: AccountId is required, and the caller must be the management (or delegated admin) account.
    if (!input.AccountId) throw new AccountValidationException({ message: 'AccountId is required', $metadata: { httpStatusCode: 400 } });
    const target = this.accountNamed(caller, input);
    if (this.stubsOf(target).primaryEmailRefused) {
      throw new AccountAccessDeniedException({
        message: 'Trusted access for AWS Account Management is not enabled for the organization',
        $metadata: { httpStatusCode: 403 },
      });
    }
    return { PrimaryEmail: this.stubsOf(target).primaryEmail };
  }

  /** account:ListRegions pages at most MaxResults (1 to 50), and may return fewer: here PAGE, so callers must follow NextToken. */
  private listRegions(accountId: string, input: { MaxResults?: number; NextToken?: string; RegionOptStatusContains?: string[] }) {
    const max = input.MaxResults ?? 20;
    if (max < 1 || max > 50)
      throw new AccountValidationException({ message: 'MaxResults must be between 1 and 50', $metadata: { httpStatusCode: 400 } });
    const statuses = input.RegionOptStatusContains;
    const regions = this.stubsOf(accountId)
      .regions.map((r) => ({
        RegionName: r,
        RegionOptStatus: r === 'us-east-1' || r.startsWith('eu-west') || r.startsWith('us-') ? 'ENABLED_BY_DEFAULT' : 'ENABLED',
      }))
      .filter((r) => !statuses || statuses.includes(r.RegionOptStatus));
    const start = Number(input.NextToken ?? 0);
    const end = start + Math.min(max, PAGE);
    return { Regions: regions.slice(start, end), ...(end < regions.length ? { NextToken: String(end) } : {}) };
  }

  /**
   * iam:ListOrganizationsFeatures, answered from moto's organization: the management account's
   * view (IAM's documented errors otherwise), with the features this test enabled.
   */
  private async listOrganizationsFeatures(caller: string) {
    const org = await this.organizationsAdmin(caller)
      .send(new DescribeOrganizationCommand({}))
      .catch((error: Error) => {
        if (error.name === 'AWSOrganizationsNotInUseException')
          throw new OrganizationNotFoundException({
            message: 'The request failed because the account is not a member of an organization.',
            $metadata: { httpStatusCode: 400 },
          });
        throw error;
      });
    if (org.Organization?.MasterAccountId !== caller) {
      throw new AccountNotManagementOrDelegatedAdministratorException({
        message:
          'The request was rejected because the account making the request is not the management account or delegated administrator account.',
        $metadata: { httpStatusCode: 400 },
      });
    }
    return { OrganizationId: org.Organization.Id, EnabledFeatures: [...this.organizationFeatures] };
  }

  /**
   * sts:AssumeRoot, decided from moto's organization: from its management account, on a regional
   * endpoint, against a member (never the management account), a root-task policy, at most 900 s,
   * with RootSessions enabled. The session's IAM calls go to moto through rootSessionIam.
   */
  private async assumeRoot(
    caller: string,
    region: string,
    input: { TargetPrincipal?: string; TaskPolicyArn?: { arn?: string }; DurationSeconds?: number },
  ) {
    const refuse = (message: string, name = 'AccessDenied') =>
      new STSServiceException({ name, $fault: 'client', message, $metadata: { httpStatusCode: name === 'AccessDenied' ? 403 : 400 } });
    if (region === 'aws-global') throw refuse('AssumeRoot needs a regional STS endpoint', 'InvalidAction');
    const policy =
      /^arn:aws:iam::aws:policy\/root-task\/(IAMAuditRootUserCredentials|IAMDeleteRootUserCredentials|IAMCreateRootUserPassword|IAMDeleteRootUserPassword|S3UnlockBucketPolicy|SQSUnlockQueuePolicy)$/.exec(
        input.TaskPolicyArn?.arn ?? '',
      )?.[1];
    if (!policy) throw refuse(`TaskPolicyArn must name a root-task policy: ${input.TaskPolicyArn?.arn}`, 'ValidationError');
    if ((input.DurationSeconds ?? 900) > 900) throw refuse('DurationSeconds must be at most 900', 'ValidationError');
    const org = await this.organizationsAdmin(caller)
      .send(new DescribeOrganizationCommand({}))
      .catch(() => undefined);
    if (!org || org.Organization?.MasterAccountId !== caller)
      throw refuse('AssumeRoot is allowed only from the management account or a delegated administrator');
    if (!this.organizationFeatures.includes('RootSessions'))
      throw refuse('Privileged root actions (RootSessions) are not enabled for the organization');
    if (input.TargetPrincipal === caller) throw refuse('AssumeRoot cannot target the management account');
    const members = (await this.organizationsAdmin(caller).send(new ListAccountsCommand({}))).Accounts ?? [];
    if (!members.some((a) => a.Id === input.TargetPrincipal)) throw refuse(`${input.TargetPrincipal} is not a member of the organization`);
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    this.rootSessions.set(accessKeyId, { accountId: input.TargetPrincipal!, policy });
    return {
      Credentials: {
        AccessKeyId: accessKeyId,
        SecretAccessKey: randomBytes(20).toString('base64'),
        SessionToken: randomBytes(32).toString('base64'),
        Expiration: new Date(Date.now() + 900_000),
      },
    };
  }

  /**
   * IAM in an AssumeRoot session: AWS acts on the root user when UserName is omitted; moto has no
   * root user, so each such call goes to moto with UserName = ROOT_STAND_IN added (an IAM user
   * seeded with root's credentials). A call that names a user itself is refused, as AWS's
   * root-task policies refuse it. The request and response are otherwise moto's.
   */
  private rootSessionIam(session: TempCredentials): IAMClient {
    const owner = this.rootSessions.get(session.accessKeyId);
    if (!owner) throw new Error(`No AssumeRoot session ${session.accessKeyId}`);
    const client = this.make(`iam-root:${session.accessKeyId}`, () => new IAMClient(this.config('us-east-1', session)), owner.accountId);
    return recorded(client, {
      to: (name) => (ROOT_CREDENTIAL_COMMANDS.has(name) ? 'moto-root-stand-in' : 'moto'),
      rewrite: (command) => {
        if (!ROOT_CREDENTIAL_COMMANDS.has(command.constructor.name)) return command;
        if ((command.input as { UserName?: string }).UserName !== undefined) {
          throw new IAMServiceException({
            name: 'AccessDenied',
            $fault: 'client',
            message: `${command.constructor.name} names UserName inside an AssumeRoot session: the root-task policy allows only the root user`,
            $metadata: { httpStatusCode: 403 },
          });
        }
        const Command = command.constructor as new (input: unknown) => AnyCommand;
        return new Command({ ...command.input, UserName: ROOT_STAND_IN });
      },
    });
  }

  /**
   * cloudtrail:LookupEvents over the events a test seeded, as AWS documents it: one lookup
   * attribute, MaxResults 1 to 50, newest first, StartTime not after EndTime, a NextToken valid only
   * with the parameters it was issued for.
   */
  private lookupEvents(accountId: string, region: string, input: LookupEventsCommandInput) {
    const meta = { $metadata: { httpStatusCode: 400 } };
    const attributes = input.LookupAttributes ?? [];
    if (attributes.length > 1)
      throw new InvalidLookupAttributesException({ message: 'You cannot specify more than one lookup attribute.', ...meta });
    const max = input.MaxResults ?? 50;
    if (max < 1 || max > 50) throw new InvalidMaxResultsException({ message: 'MaxResults must be between 1 and 50.', ...meta });
    const start = input.StartTime ? new Date(input.StartTime).getTime() : 0;
    const end = input.EndTime ? new Date(input.EndTime).getTime() : Infinity;
    if (start > end) throw new InvalidTimeRangeException({ message: 'StartTime must be before EndTime.', ...meta });
    const params = JSON.stringify({ attributes, start, end, max });
    let offset = 0;
    if (input.NextToken) {
      const token = this.lookupTokens.get(input.NextToken);
      if (!token || token.params !== params) throw new InvalidNextTokenException({ message: 'Invalid NextToken.', ...meta });
      offset = token.offset;
    }
    const matching = (this.stubsOf(accountId).events[region] ?? [])
      .filter((r) => {
        const t = Date.parse(String(r['eventTime']));
        return t >= start && t <= end && attributes.every((a) => matches(r, a.AttributeKey ?? '', a.AttributeValue ?? ''));
      })
      .sort((a, b) => Date.parse(String(b['eventTime'])) - Date.parse(String(a['eventTime'])));
    let NextToken: string | undefined;
    if (offset + max < matching.length) {
      NextToken = randomBytes(12).toString('base64url');
      this.lookupTokens.set(NextToken, { params, offset: offset + max });
    }
    return {
      Events: matching.slice(offset, offset + max).map((r) => ({
        EventId: r['eventID'],
        EventName: r['eventName'],
        EventTime: new Date(String(r['eventTime'])),
        EventSource: r['eventSource'],
        Username: usernameOf(r),
        CloudTrailEvent: JSON.stringify(r),
      })),
      ...(NextToken ? { NextToken } : {}),
    };
  }
}

function matches(record: JsonObject, key: string, value: string): boolean {
  const identity = (record['userIdentity'] ?? {}) as JsonObject;
  switch (key) {
    case 'Username':
      return usernameOf(record) === value;
    case 'EventSource':
      return record['eventSource'] === value;
    case 'EventName':
      return record['eventName'] === value;
    case 'AccessKeyId':
      return identity['accessKeyId'] === value;
    case 'EventId':
      return record['eventID'] === value;
    case 'ReadOnly':
      return String(record['readOnly']) === value;
    default:
      return false;
  }
}

// ---------------------------------------------------------------- per file

/**
 * In a describeMoto body: this worker's moto_server (started on first use, reset for this file),
 * `MOTO_ENDPOINT` set to it, and a fresh MotoAws for the file's tests.
 */
export function useMoto(): { readonly aws: MotoAws; reset(): Promise<void> } {
  let server: MotoServer | undefined;
  let own = false;
  let aws: MotoAws | undefined;
  beforeAll(async () => {
    const dir = runDir();
    if (dir) server = await workerServer(dir);
    else {
      server = await startMoto(process.pid);
      own = true;
    }
    process.env['MOTO_ENDPOINT'] = server.endpoint;
    aws = new MotoAws(server.endpoint);
  }, 60_000);
  afterAll(() => {
    if (server && own) stopMoto(server);
  });
  return {
    get aws() {
      if (!aws) throw new Error('moto is not up yet: use it inside a test or a hook');
      return aws;
    },
    async reset() {
      await fetch(`${assertLoopback(server!.endpoint)}/moto-api/reset`, { method: 'POST' });
      aws = new MotoAws(server!.endpoint);
    },
  };
}

/**
 * The file's last test: every command the manifest says this file sends to moto (or to a stub) was
 * sent there by a step in this file, and every command a step sent went where the manifest says.
 */
export function itKeepsTheManifestHonest(file: string): void {
  const name = basename(file);
  it(`${name}: sent each command where manifest.ts says, and nowhere else`, () => {
    const claimed = Object.entries(MANIFEST).flatMap(([command, c]) =>
      c.checks.filter((check) => check.by.includes(name)).map((check) => ({ command, on: check.on })),
    );
    expect(claimed.length).toBeGreaterThan(0);
    const notSent = claimed
      .filter((c) => !sent.some((s) => s.command === c.command && s.to === c.on))
      .map((c) => `${c.command} -> ${c.on}`);
    expect({ file: name, claimedButNotSent: notSent }).toEqual({ file: name, claimedButNotSent: [] });
    const unlisted = [
      ...new Set(sent.filter((s) => !MANIFEST[s.command]?.checks.some((c) => c.on === s.to)).map((s) => `${s.command} -> ${s.to}`)),
    ];
    expect({ file: name, sentButNotInTheManifest: unlisted }).toEqual({ file: name, sentButNotInTheManifest: [] });
  });
}
