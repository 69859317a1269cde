import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { IAMClient, DeleteAccessKeyCommand, GetAccountSummaryCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { AssumeRootCommand, STSClient } from '@aws-sdk/client-sts';
import { RateLimiters, virtualTimer } from '#shared/rate-limit';
import { lookupAll, reviewRegions } from '#shared/cloudtrail-review';
import { SimulatedAws } from '#drill/simulated-aws';
import { rootEvents, simAccount, world } from '../helpers-sim';

const ACCOUNT = '111122223333';
const START = new Date('2024-02-26T00:00:00Z');
const END = new Date('2024-03-05T00:00:00Z');
const root = (_region: string) => [
  { label: 'root', attribute: { AttributeKey: 'Username' as const, AttributeValue: 'root' }, startTime: START, endTime: END },
];

function setup(regions: Record<string, number>) {
  const timer = virtualTimer(Date.parse('2024-03-05T00:00:00Z'));
  const account = simAccount(ACCOUNT, {
    enabledRegions: Object.keys(regions),
    events: Object.fromEntries(Object.entries(regions).map(([r, n]) => [r, rootEvents(n, r)])),
  });
  const aws = new SimulatedAws(world([account]), timer);
  const deps = {
    cloudtrail: (region: string) => aws.client({ region }) as unknown as CloudTrailClient,
    limiters: new RateLimiters(2, timer),
    timer,
    accountId: ACCOUNT,
  };
  return { aws, timer, deps };
}

/** The most calls that started inside any one-second window, per region. */
function peakPerSecond(starts: number[]): number {
  let peak = 0;
  for (const t of starts) peak = Math.max(peak, starts.filter((u) => u >= t && u < t + 1000).length);
  return peak;
}

describe('CloudTrail review', () => {
  it('gets every page of every region, never more than 2 calls/s per region, regions in parallel', async () => {
    const { aws, timer, deps } = setup({ 'us-east-1': 240, 'eu-west-1': 130, 'ap-southeast-2': 7 });
    const result = await reviewRegions(['us-east-1', 'eu-west-1', 'ap-southeast-2'], root, deps);

    expect(result.events).toHaveLength(240 + 130 + 7);
    expect(new Set(result.events.map((e) => `${e.region}/${String(e.record['eventID'])}`)).size).toBe(377);
    expect(result.stats.map((s) => [s.region, s.pages, s.calls, s.throttled])).toEqual([
      ['us-east-1', 5, 5, 0],
      ['eu-west-1', 3, 3, 0],
      ['ap-southeast-2', 1, 1, 0],
    ]);
    for (const region of ['us-east-1', 'eu-west-1']) {
      const starts = aws.calls.filter((c) => c.command === 'LookupEventsCommand' && c.region === region).map((c) => c.at);
      expect(peakPerSecond(starts)).toBeLessThanOrEqual(2);
    }
    expect(aws.calls.some((c) => c.error === 'ThrottlingException')).toBe(false);
    // The floor is the slowest region: 5 calls at 2/s = 2 s of spacing; regions did not queue behind each other.
    expect(timer.elapsed).toBe(2000);
  });

  it('survives ThrottlingException with backoff and still gets every page', async () => {
    const { aws, deps } = setup({ 'us-east-1': 120 });
    aws.inject({ command: 'LookupEventsCommand', error: 'ThrottlingException', times: 3 });
    const { events, stats } = await lookupAll('us-east-1', root('us-east-1')[0]!, deps);
    expect(events).toHaveLength(120);
    expect(stats).toMatchObject({ pages: 3, throttled: 3, calls: 6 });
    const starts = aws.calls.filter((c) => c.command === 'LookupEventsCommand').map((c) => c.at);
    expect(peakPerSecond(starts)).toBeLessThanOrEqual(2);
  });

  it('gives up with TransientAwsError when throttling never ends', async () => {
    const { aws, deps } = setup({ 'us-east-1': 10 });
    aws.inject({ command: 'LookupEventsCommand', error: 'ThrottlingException', times: Infinity });
    await expect(lookupAll('us-east-1', root('us-east-1')[0]!, { ...deps, maxAttempts: 4 })).rejects.toMatchObject({
      name: 'TransientAwsError',
    });
  });

  it('streams each page to onPage as it arrives', async () => {
    const { deps } = setup({ 'us-east-1': 101 });
    const pages: number[] = [];
    await lookupAll('us-east-1', root('us-east-1')[0]!, { ...deps, onPage: (p) => Promise.resolve(void pages.push(p.events.length)) });
    expect(pages).toEqual([50, 50, 1]);
  });
});

describe('the simulated account is as strict as AWS where it matters', () => {
  const MGMT = '999988887777';
  const MEMBER = '444455556666';
  const org = () => {
    const member = simAccount(MEMBER, {
      root: {
        accessKeys: [{ AccessKeyId: 'AKIAMEMBERROOT000001', Status: 'Active', CreateDate: '2024-03-04T09:00:00Z' }],
        signingCertificates: [],
        mfaDevices: [],
        password: true,
      },
    });
    return new SimulatedAws(
      world([simAccount(MGMT), member], {
        organization: {
          id: 'o-abcdefghij',
          managementAccountId: MGMT,
          features: ['RootCredentialsManagement', 'RootSessions'],
          delegatedAdmins: [],
        },
        responderAccountId: MGMT,
      }),
    );
  };
  const session = async (aws: SimulatedAws, policy: string, target = MEMBER) => {
    const sts = aws.client({ region: 'us-east-1' }) as unknown as STSClient;
    const out = await sts.send(
      new AssumeRootCommand({
        TargetPrincipal: target,
        TaskPolicyArn: { arn: `arn:aws:iam::aws:policy/root-task/${policy}` },
        DurationSeconds: 900,
      }),
    );
    return aws.client({ region: 'us-east-1', credentials: { accessKeyId: out.Credentials!.AccessKeyId! } }) as unknown as IAMClient;
  };

  it('refuses LookupEvents with two lookup attributes', async () => {
    const aws = new SimulatedAws(world([simAccount(ACCOUNT)]));
    const ct = aws.client({ region: 'us-east-1' }) as unknown as CloudTrailClient;
    await expect(
      ct.send(
        new LookupEventsCommand({
          LookupAttributes: [
            { AttributeKey: 'Username', AttributeValue: 'root' },
            { AttributeKey: 'EventName', AttributeValue: 'ConsoleLogin' },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidLookupAttributesException' });
  });

  it('refuses a NextToken reused with other parameters', async () => {
    const timer = virtualTimer();
    const aws = new SimulatedAws(world([simAccount(ACCOUNT, { events: { 'us-east-1': rootEvents(60, 'us-east-1') } })]), timer);
    const ct = aws.client({ region: 'us-east-1' }) as unknown as CloudTrailClient;
    const first = await ct.send(
      new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'root' }], MaxResults: 50 }),
    );
    expect(first.NextToken).toBeDefined();
    await timer.sleep(1000);
    await expect(
      ct.send(
        new LookupEventsCommand({
          LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'RunInstances' }],
          MaxResults: 50,
          NextToken: first.NextToken,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
  });

  it('throttles a third LookupEvents call within one second', async () => {
    const aws = new SimulatedAws(world([simAccount(ACCOUNT)]), virtualTimer());
    const ct = aws.client({ region: 'us-east-1' }) as unknown as CloudTrailClient;
    const call = () => ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'root' }] }));
    await call();
    await call();
    await expect(call()).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('refuses AssumeRoot against the management account', async () => {
    await expect(session(org(), 'IAMAuditRootUserCredentials', MGMT)).rejects.toMatchObject({
      name: 'AccessDenied',
      message: 'AssumeRoot cannot target the management account',
    });
  });

  it('refuses a delete under an audit-policy session', async () => {
    const aws = org();
    const iam = await session(aws, 'IAMAuditRootUserCredentials');
    await expect(iam.send(new DeleteAccessKeyCommand({ AccessKeyId: 'AKIAMEMBERROOT000001' }))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
    expect(aws.world.accounts[MEMBER]!.root.accessKeys).toHaveLength(1);
  });

  it('refuses UserName inside an AssumeRoot session', async () => {
    const iam = await session(org(), 'IAMDeleteRootUserCredentials');
    await expect(iam.send(new ListAccessKeysCommand({ UserName: 'root' }))).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(iam.send(new ListAccessKeysCommand({}))).resolves.toMatchObject({
      AccessKeyMetadata: [{ AccessKeyId: 'AKIAMEMBERROOT000001' }],
    });
  });

  it('refuses GetAccountSummary under the delete policy, allows it under the audit policy', async () => {
    const aws = org();
    await expect((await session(aws, 'IAMDeleteRootUserCredentials')).send(new GetAccountSummaryCommand({}))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
    await expect((await session(aws, 'IAMAuditRootUserCredentials')).send(new GetAccountSummaryCommand({}))).resolves.toMatchObject({
      SummaryMap: { AccountAccessKeysPresent: 1 },
    });
  });

  it('refuses root-credential calls from an ordinary role', async () => {
    const aws = org();
    const iam = aws.client({ region: 'us-east-1', accountId: MEMBER }) as unknown as IAMClient;
    await expect(iam.send(new ListAccessKeysCommand({}))).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});
