import { GetAlternateContactCommand, PutAlternateContactCommand } from '@aws-sdk/client-account';
import {
  CreateTrailCommand,
  DescribeTrailsCommand,
  type DescribeTrailsCommandOutput,
  GetTrailStatusCommand,
  StartLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import { CreateDetectorCommand, GetDetectorCommand, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { ListRulesCommand, type ListRulesCommandOutput, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  DeleteLoginProfileCommand,
  EnableMFADeviceCommand,
  GetAccountSummaryCommand,
  GetLoginProfileCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListVirtualMFADevicesCommand,
  type ListVirtualMFADevicesCommandOutput,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateOrganizationCommand,
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListParentsCommand,
} from '@aws-sdk/client-organizations';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { AssumeRootCommand } from '@aws-sdk/client-sts';
import { FORWARDED_RULES, forwardingRuleName } from '#shared/forwarding';
import { type SimAccount, type SimClient, SimulatedAws, type SimWorld } from '#drill/simulated-aws';
import { simAccount, world } from '../helpers-sim';
import { ACCOUNT, describeMoto, useMoto } from './moto';

/**
 * Parity: the simulated account (drill/simulated-aws.ts, what the unit tests and the
 * drill run against) and moto answer the same commands with the same error names and the same
 * result shapes: the keys the code reads, and the paging fields. Where moto and
 * AWS's documentation disagree, the comment says so and the simulator is held to the documentation.
 */
/** A client, the SDK's on moto or the simulator's, as a helper that sends it one kind of command sees it. */
type Sends<C, O> = { send(command: C): Promise<O> };
type Outcome = { error: string } | { ok: Record<string, unknown> };

async function outcome(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: (await run()) as Record<string, unknown> };
  } catch (error) {
    return { error: (error as Error).name };
  }
}
const errorOf = (o: Outcome) => ('error' in o ? o.error : 'no error');
const keys = (o: object | undefined) =>
  Object.keys(o ?? {})
    .filter((k) => k !== '$metadata')
    .sort();
/** A Date from any realm (the simulator's structuredClone makes them outside jest's sandbox). */
const isDate = (v: unknown) => Object.prototype.toString.call(v) === '[object Date]';

describeMoto('parity: simulated account and moto', () => {
  const moto = useMoto();
  beforeEach(() => moto.reset());

  /** A simulated world with one standalone account, and a client for its own role. */
  function sim(
    overrides: Partial<SimAccount> = {},
    extra: Partial<SimWorld> = {},
    region = 'us-east-1',
  ): { aws: SimulatedAws; client: SimClient } {
    const aws = new SimulatedAws(world([simAccount(ACCOUNT, overrides)], extra));
    return { aws, client: aws.client({ accountId: ACCOUNT, region }) };
  }

  /** A simulated organization: the management account and a member, and an AssumeRoot session's IAM client on the member. */
  async function simRootSession(member: Partial<SimAccount>): Promise<SimClient> {
    const memberId = '210987654321';
    const aws = new SimulatedAws(
      world([simAccount(ACCOUNT), simAccount(memberId, member)], {
        organization: {
          id: 'o-abcdef1234',
          managementAccountId: ACCOUNT,
          features: ['RootCredentialsManagement', 'RootSessions'],
          delegatedAdmins: [],
        },
      }),
    );
    const out = await aws.client({ accountId: ACCOUNT, region: 'us-east-1' }).send(
      new AssumeRootCommand({
        TargetPrincipal: memberId,
        TaskPolicyArn: { arn: 'arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials' },
        DurationSeconds: 900,
      }),
    );
    return aws.client({ region: 'us-east-1', credentials: { accessKeyId: out.Credentials!.AccessKeyId! } });
  }

  // ---------------------------------------------------------------- IAM error names

  it('GetLoginProfile without a password: NoSuchEntityException', async () => {
    await moto.aws.iamAdmin().send(new CreateUserCommand({ UserName: 'no-console' }));
    const onMoto = await outcome(() => moto.aws.iamAdmin().send(new GetLoginProfileCommand({ UserName: 'no-console' })));
    const onSim = await outcome(async () =>
      (await simRootSession({ root: { accessKeys: [], signingCertificates: [], mfaDevices: [], password: false } })).send(
        new GetLoginProfileCommand({}),
      ),
    );
    expect(errorOf(onMoto)).toBe('NoSuchEntityException');
    expect(errorOf(onSim)).toBe(errorOf(onMoto));
  });

  it('DeleteLoginProfile without a password: NoSuchEntityException (same defect)', async () => {
    await moto.aws.iamAdmin().send(new CreateUserCommand({ UserName: 'no-console' }));
    const onMoto = await outcome(() => moto.aws.iamAdmin().send(new DeleteLoginProfileCommand({ UserName: 'no-console' })));
    const onSim = await outcome(() =>
      sim({ iamUsers: [{ UserName: 'no-console', CreateDate: '2024-01-01T00:00:00Z', loginProfile: false }] }).client.send(
        new DeleteLoginProfileCommand({ UserName: 'no-console' }),
      ),
    );
    expect(errorOf(onMoto)).toBe('NoSuchEntityException');
    expect(errorOf(onSim)).toBe(errorOf(onMoto));
  });

  it('GetUserPolicy for a policy the user lacks: NoSuchEntityException (same defect)', async () => {
    await moto.aws.iamAdmin().send(new CreateUserCommand({ UserName: 'tracy' }));
    const onMoto = await outcome(() =>
      moto.aws.iamAdmin().send(new GetUserPolicyCommand({ UserName: 'tracy', PolicyName: 'root-responder-quarantine' })),
    );
    const onSim = await outcome(() =>
      sim({ iamUsers: [{ UserName: 'tracy', CreateDate: '2024-01-01T00:00:00Z' }] }).client.send(
        new GetUserPolicyCommand({ UserName: 'tracy', PolicyName: 'root-responder-quarantine' }),
      ),
    );
    expect(errorOf(onMoto)).toBe('NoSuchEntityException');
    expect(errorOf(onSim)).toBe(errorOf(onMoto));
  });

  it('UpdateAccessKey, PutUserPolicy, ListAccessKeys on a missing key or user: NoSuchEntityException (same defect)', async () => {
    await moto.aws.iamAdmin().send(new CreateUserCommand({ UserName: 'tracy' }));
    const { client } = sim({ iamUsers: [{ UserName: 'tracy', CreateDate: '2024-01-01T00:00:00Z', accessKeys: [] }] });
    const commands = [
      new UpdateAccessKeyCommand({ UserName: 'tracy', AccessKeyId: 'AKIAEXAMPLEMISSING01', Status: 'Inactive' }),
      new PutUserPolicyCommand({ UserName: 'ghost', PolicyName: 'p', PolicyDocument: '{"Version":"2012-10-17","Statement":[]}' }),
      new ListAccessKeysCommand({ UserName: 'ghost' }),
    ];
    for (const command of commands) {
      const onMoto = await outcome(() => moto.aws.iamAdmin().send(command as never));
      expect(errorOf(onMoto)).toBe('NoSuchEntityException');
      expect({ command: command.constructor.name, error: errorOf(await outcome(() => client.send(command))) }).toEqual({
        command: command.constructor.name,
        error: errorOf(onMoto),
      });
    }
  });

  // ---------------------------------------------------------------- IAM shapes and paging

  it('ListAccessKeys: the same entry keys; GetAccountSummary: the root keys the code reads, as numbers', async () => {
    await moto.aws.iamAdmin().send(new CreateUserCommand({ UserName: 'tracy' }));
    await moto.aws.iamAdmin().send(new CreateAccessKeyCommand({ UserName: 'tracy' }));
    const onMoto = await moto.aws.iamAdmin().send(new ListAccessKeysCommand({ UserName: 'tracy' }));
    const { client } = sim({
      iamUsers: [
        {
          UserName: 'tracy',
          CreateDate: '2024-01-01T00:00:00Z',
          accessKeys: [{ AccessKeyId: 'AKIAEXAMPLEKEY000001', Status: 'Active', CreateDate: '2024-01-01T00:00:00Z' }],
        },
      ],
    });
    const onSim = await client.send(new ListAccessKeysCommand({ UserName: 'tracy' }));
    expect(keys(onSim.AccessKeyMetadata![0])).toEqual(keys(onMoto.AccessKeyMetadata![0]));
    expect(isDate(onSim.AccessKeyMetadata![0]!.CreateDate)).toBe(isDate(onMoto.AccessKeyMetadata![0]!.CreateDate));

    const summaryKeys = ['AccountAccessKeysPresent', 'AccountMFAEnabled', 'AccountSigningCertificatesPresent'];
    const motoSummary = (await moto.aws.iamAdmin().send(new GetAccountSummaryCommand({}))).SummaryMap as Record<string, unknown>;
    const simSummary = (await client.send(new GetAccountSummaryCommand({}))).SummaryMap as Record<string, unknown>;
    for (const key of summaryKeys)
      expect({ key, moto: typeof motoSummary[key], sim: typeof simSummary[key] }).toEqual({ key, moto: 'number', sim: 'number' });
  });

  it('ListVirtualMFADevices pages at 100: IsTruncated and a Marker, then the rest', async () => {
    const iam = moto.aws.iamAdmin();
    for (let u = 0; u < 13; u++) {
      await iam.send(new CreateUserCommand({ UserName: `u${u}` }));
      for (let d = 0; d < 8; d++) {
        const device = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: `u${u}-${d}` }));
        await iam.send(
          new EnableMFADeviceCommand({
            UserName: `u${u}`,
            SerialNumber: device.VirtualMFADevice!.SerialNumber!,
            AuthenticationCode1: '123456',
            AuthenticationCode2: '654321',
          }),
        );
      }
    }
    type Lister = Sends<ListVirtualMFADevicesCommand, ListVirtualMFADevicesCommandOutput>;
    const page = (client: Lister, Marker?: string) =>
      client.send(new ListVirtualMFADevicesCommand({ AssignmentStatus: 'Assigned', ...(Marker ? { Marker } : {}) }));
    const shape = async (client: Lister) => {
      const first = await page(client);
      const second = first.Marker ? await page(client, first.Marker) : undefined;
      return {
        first: { devices: first.VirtualMFADevices!.length, IsTruncated: first.IsTruncated, Marker: typeof first.Marker },
        second: second && { devices: second.VirtualMFADevices!.length, IsTruncated: second.IsTruncated },
      };
    };
    const onMoto = await shape(iam);
    expect(onMoto).toEqual({ first: { devices: 100, IsTruncated: true, Marker: 'string' }, second: { devices: 4, IsTruncated: false } });
    const devices = Array.from({ length: 104 }, (_, i) => ({
      SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/root-${i}`,
      kind: 'virtual' as const,
      EnableDate: '2024-01-01T00:00:00Z',
    }));
    expect(await shape(sim({ root: { accessKeys: [], signingCertificates: [], mfaDevices: devices, password: true } }).client)).toEqual(
      onMoto,
    );
  });

  // ---------------------------------------------------------------- Account

  it('GetAlternateContact: unset is ResourceNotFoundException; set has the same keys', async () => {
    const onMoto = await outcome(() => moto.aws.accountAdmin().send(new GetAlternateContactCommand({ AlternateContactType: 'BILLING' })));
    const { client } = sim({
      alternateContacts: { SECURITY: { Name: 'S', Title: 'T', EmailAddress: 's@example.com', PhoneNumber: '+1' } },
    });
    expect(errorOf(onMoto)).toBe('ResourceNotFoundException');
    expect(errorOf(await outcome(() => client.send(new GetAlternateContactCommand({ AlternateContactType: 'BILLING' }))))).toBe(
      errorOf(onMoto),
    );
    await moto.aws.accountAdmin().send(
      new PutAlternateContactCommand({
        AlternateContactType: 'SECURITY',
        Name: 'S',
        Title: 'T',
        EmailAddress: 's@example.com',
        PhoneNumber: '+1',
      }),
    );
    const set = await moto.aws.accountAdmin().send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' }));
    expect(keys((await client.send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' }))).AlternateContact)).toEqual(
      keys(set.AlternateContact),
    );
  });

  // ---------------------------------------------------------------- Organizations

  it('DescribeOrganization: AWSOrganizationsNotInUseException outside one; inside, the Id and MasterAccountId the code reads', async () => {
    const onMoto = await outcome(() => moto.aws.organizationsAdmin().send(new DescribeOrganizationCommand({})));
    expect(errorOf(onMoto)).toBe('AWSOrganizationsNotInUseException');
    expect(errorOf(await outcome(() => sim().client.send(new DescribeOrganizationCommand({}))))).toBe(errorOf(onMoto));
    await moto.aws.organizationsAdmin().send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const inOrg = (await moto.aws.organizationsAdmin().send(new DescribeOrganizationCommand({}))).Organization!;
    const simOrg = (
      await sim({}, { organization: { id: 'o-abcdef1234', managementAccountId: ACCOUNT, features: [], delegatedAdmins: [] } }).client.send(
        new DescribeOrganizationCommand({}),
      )
    ).Organization!;
    for (const key of ['Id', 'MasterAccountId', 'FeatureSet'])
      expect({ key, moto: key in inOrg, sim: key in simOrg }).toEqual({ key, moto: true, sim: true });
  });

  it('ListAccounts entries: Id, Name, Email, Arn, Status, State, JoinedMethod and JoinedTimestamp (a Date)', async () => {
    await moto.aws.createOrganization(['workload']);
    const onMoto = (await moto.aws.organizationsAdmin().send(new ListAccountsCommand({}))).Accounts!;
    const simOrganization = { organization: { id: 'o-abcdef1234', managementAccountId: ACCOUNT, features: [], delegatedAdmins: [] } };
    const simAws = new SimulatedAws(world([simAccount(ACCOUNT), simAccount('210987654321')], simOrganization));
    const onSim = (await simAws.client({ accountId: ACCOUNT, region: 'us-east-1' }).send(new ListAccountsCommand({}))).Accounts as Record<
      string,
      unknown
    >[];
    expect(keys(onSim[0])).toEqual(keys(onMoto[0]));
    expect([isDate(onSim[0]!['JoinedTimestamp']), isDate(onMoto[0]!.JoinedTimestamp)]).toEqual([true, true]);
    // (Page size is not compared: AWS documents MaxResults 1 to 20 for ListAccounts, moto defaults to 100; the simulator pages at 20, as AWS.)
  });

  it('DescribeAccount of an account not in the organization: AccountNotFoundException; ListParents: ChildNotFoundException (AWS documents it; moto says AccountNotFoundException)', async () => {
    await moto.aws.organizationsAdmin().send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const simClient = sim(
      {},
      { organization: { id: 'o-abcdef1234', managementAccountId: ACCOUNT, features: [], delegatedAdmins: [] } },
    ).client;
    const describe = await outcome(() => moto.aws.organizationsAdmin().send(new DescribeAccountCommand({ AccountId: '999999999999' })));
    expect(errorOf(describe)).toBe('AccountNotFoundException');
    expect(errorOf(await outcome(() => simClient.send(new DescribeAccountCommand({ AccountId: '999999999999' }))))).toBe(errorOf(describe));
    // moto 5.2.1 answers ListParents for an unknown child with AccountNotFoundException; AWS's
    // Organizations API reference lists ChildNotFoundException for it. The simulator follows AWS.
    expect(errorOf(await outcome(() => moto.aws.organizationsAdmin().send(new ListParentsCommand({ ChildId: '999999999999' }))))).toBe(
      'AccountNotFoundException',
    );
    expect(errorOf(await outcome(() => simClient.send(new ListParentsCommand({ ChildId: '999999999999' }))))).toBe(
      'ChildNotFoundException',
    );
  });

  // ---------------------------------------------------------------- CloudTrail

  async function motoTrails(): Promise<void> {
    await moto.aws.s3Admin().send(new CreateBucketCommand({ Bucket: 'trail-logs' }));
    await moto.aws
      .cloudtrailAdmin('us-east-1')
      .send(new CreateTrailCommand({ Name: 'main', S3BucketName: 'trail-logs', IsMultiRegionTrail: true }));
    await moto.aws.cloudtrailAdmin('eu-west-1').send(new CreateTrailCommand({ Name: 'eu-only', S3BucketName: 'trail-logs' }));
  }
  const simTrails: SimAccount['trails'] = [
    { Name: 'main', HomeRegion: 'us-east-1', IsMultiRegionTrail: true, IsLogging: false },
    { Name: 'eu-only', HomeRegion: 'eu-west-1', IsMultiRegionTrail: false, IsLogging: false },
  ];

  it('DescribeTrails per region: us-east-1 sees its trail only; eu-west-1 its own and the multi-region one', async () => {
    await motoTrails();
    const names = async (client: Sends<DescribeTrailsCommand, DescribeTrailsCommandOutput>) =>
      ((await client.send(new DescribeTrailsCommand({ includeShadowTrails: true }))).trailList as { Name: string }[])
        .map((t) => t.Name)
        .sort();
    const onMoto = {
      'us-east-1': await names(moto.aws.cloudtrailAdmin('us-east-1')),
      'eu-west-1': await names(moto.aws.cloudtrailAdmin('eu-west-1')),
    };
    expect(onMoto).toEqual({ 'us-east-1': ['main'], 'eu-west-1': ['eu-only', 'main'] });
    const simWorld = new SimulatedAws(world([simAccount(ACCOUNT, { trails: simTrails })]));
    expect({
      'us-east-1': await names(simWorld.client({ accountId: ACCOUNT, region: 'us-east-1' })),
      'eu-west-1': await names(simWorld.client({ accountId: ACCOUNT, region: 'eu-west-1' })),
    }).toEqual(onMoto);
  });

  it('DescribeTrails entries have the keys the code reads; GetTrailStatus: IsLogging, or TrailNotFoundException', async () => {
    await motoTrails();
    const motoTrail = (await moto.aws.cloudtrailAdmin('us-east-1').send(new DescribeTrailsCommand({ includeShadowTrails: true })))
      .trailList![0]!;
    const { client } = sim({ trails: simTrails });
    const simTrail = (await client.send(new DescribeTrailsCommand({ includeShadowTrails: true }))).trailList![0]!;
    for (const key of ['Name', 'HomeRegion', 'IsMultiRegionTrail', 'TrailARN'])
      expect({ key, moto: key in motoTrail, sim: key in simTrail }).toEqual({ key, moto: true, sim: true });
    expect(typeof (await client.send(new GetTrailStatusCommand({ Name: 'main' }))).IsLogging).toBe(
      typeof (await moto.aws.cloudtrailAdmin('us-east-1').send(new GetTrailStatusCommand({ Name: 'main' }))).IsLogging,
    );
    const missing = await outcome(() => moto.aws.cloudtrailAdmin('us-east-1').send(new GetTrailStatusCommand({ Name: 'no-such-trail' })));
    expect(errorOf(missing)).toBe('TrailNotFoundException');
    expect(errorOf(await outcome(() => client.send(new GetTrailStatusCommand({ Name: 'no-such-trail' }))))).toBe(errorOf(missing));
    // StartLogging on a missing trail: AWS documents TrailNotFoundException, which the simulator
    // throws; moto 5.2.1 fails with an HTTP 500 and an HTML body (a moto bug), so it is not compared.
    expect(errorOf(await outcome(() => client.send(new StartLoggingCommand({ Name: 'no-such-trail' }))))).toBe('TrailNotFoundException');
  });

  // ---------------------------------------------------------------- GuardDuty, EventBridge

  it('GuardDuty: no detector is an empty DetectorIds; GetDetector has Status, or BadRequestException for a detector not owned', async () => {
    const { client } = sim({ detectors: { 'us-east-1': { DetectorId: 'simdetector1', Status: 'ENABLED' } } }, {}, 'us-east-1');
    const empty = sim({}, {}, 'eu-west-1').client;
    expect((await empty.send(new ListDetectorsCommand({}))).DetectorIds).toEqual(
      (await moto.aws.guarddutyAdmin('eu-west-1').send(new ListDetectorsCommand({}))).DetectorIds,
    );
    const id = (await moto.aws.guarddutyAdmin('us-east-1').send(new CreateDetectorCommand({ Enable: true }))).DetectorId!;
    expect((await client.send(new GetDetectorCommand({ DetectorId: 'simdetector1' }))).Status).toBe(
      (await moto.aws.guarddutyAdmin('us-east-1').send(new GetDetectorCommand({ DetectorId: id }))).Status,
    );
    const notOwned = await outcome(() => moto.aws.guarddutyAdmin('us-east-1').send(new GetDetectorCommand({ DetectorId: 'abc123' })));
    expect(errorOf(notOwned)).toBe('BadRequestException');
    expect(errorOf(await outcome(() => client.send(new GetDetectorCommand({ DetectorId: 'abc123' }))))).toBe(errorOf(notOwned));
  });

  it('ListRules by prefix: the deployed forwarding rules, with Name and State, and no NextToken on the last page', async () => {
    const events = moto.aws.eventsAdmin('eu-west-1');
    for (const id of FORWARDED_RULES) {
      await events.send(
        new PutRuleCommand({
          Name: forwardingRuleName('test', id),
          EventPattern: '{"source":["aws.signin"]}',
          State: id === 'RootApiCallRule' || id === 'RootConsoleActionRule' ? 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS' : 'ENABLED',
        }),
      );
    }
    const list = async (client: Sends<ListRulesCommand, ListRulesCommandOutput>) => {
      const out = await client.send(new ListRulesCommand({ NamePrefix: forwardingRuleName('test', ''), Limit: 100 }));
      return {
        rules: (out.Rules as { Name: string; State: string }[]).map((r) => `${r.Name} ${r.State}`).sort(),
        NextToken: out.NextToken ?? null,
      };
    };
    expect(await list(sim({}, {}, 'eu-west-1').client)).toEqual(await list(events));
  });
});
