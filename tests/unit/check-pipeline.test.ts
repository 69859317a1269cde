import { expect } from '@jest/globals';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { checkPipeline, maxSilenceMs, type PipelineCheckDeps } from '#functions/check-pipeline/check-pipeline';
import { fixedClock } from '#shared/clock';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import { memoryLog } from '#shared/logger';
import { virtualTimer } from '#shared/rate-limit';
import { ScenarioSchema, scenarioWorld } from '#drill/scenario';
import { SimulatedAws } from '#drill/simulated-aws';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';

const snsMock = mockClient(SNSClient);
const MANAGEMENT = '999988887777';
const START = '2026-03-01T00:00:00Z';
const INTERVAL = 15;

/** An organization of `n` member accounts plus the management account, each with the given enabled regions. */
function organization(
  n: number,
  regions: (accountId: string) => string[] = () => ['us-east-1', 'eu-west-1'],
): { ids: string[]; aws: SimulatedAws } {
  const ids = [MANAGEMENT, ...Array.from({ length: n }, (_, i) => String(100000000000 + i))];
  const scenario = ScenarioSchema.parse({
    name: 'pipeline',
    description: 'pipeline check',
    mode: 'organization',
    organization: { id: 'o-a1b2c3d4e5', managementAccountId: MANAGEMENT, features: [] },
    accounts: ids.map((accountId) => ({ accountId, name: `acct-${accountId}`, root: {}, enabledRegions: regions(accountId) })),
    sources: [{ file: 'unused.json' }],
  });
  return { ids, aws: new SimulatedAws(scenarioWorld(scenario, []), virtualTimer(Date.parse(START))) };
}

function depsFor(
  aws: SimulatedAws,
  store: PipelineHealthStore,
  clock: ReturnType<typeof fixedClock>,
  overrides: Partial<PipelineCheckDeps> = {},
) {
  const metrics: Record<string, number>[] = [];
  const deps: PipelineCheckDeps = {
    mode: 'organization',
    stage: 'test',
    responderAccountId: MANAGEMENT,
    forwardingRegions: ['us-east-1', 'eu-west-1'],
    canaryIntervalMinutes: INTERVAL,
    responder: aws.targetClients({ accountId: MANAGEMENT }),
    clientsFor: (accountId) =>
      aws.targetClients(
        accountId === MANAGEMENT ? { accountId } : { accountId, roleArn: `arn:aws:iam::${accountId}:role/root-responder-read` },
      ),
    store,
    sns: new SNSClient({ region: 'us-east-1' }),
    alertTopicArn: 'arn:aws:sns:us-east-1:999988887777:alerts',
    clock,
    log: memoryLog(),
    metrics: (values) => metrics.push(values),
    ...overrides,
  };
  return { deps, metrics };
}

const alerts = () =>
  snsMock.commandCalls(PublishCommand).map((c) => ({ subject: c.args[0].input.Subject!, body: c.args[0].input.Message! }));

let store: PipelineHealthStore;
beforeEach(() => {
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
  store = new PipelineHealthStore(new SimulatedDynamoDb() as never, 'incidents');
});

describe('pipeline check', () => {
  it('after a grace period, names exactly the account and region whose canary stopped, and says so once', async () => {
    const { ids, aws } = organization(50);
    const clock = fixedClock(START);
    const { deps, metrics } = depsFor(aws, store, clock);
    // First run: nothing has had time to report; nothing is silent yet.
    expect((await checkPipeline(deps)).silent).toEqual([]);

    // Every forwarder sends its canary, except one region of one member whose rule was deleted.
    clock.advance(10 * 60_000);
    const broken = { accountId: ids[17]!, region: 'eu-west-1' };
    for (const id of ids)
      for (const region of ['us-east-1', 'eu-west-1'])
        if (!(id === broken.accountId && region === broken.region)) await store.recordCanary(id, region, clock.now());
    clock.advance(maxSilenceMs(INTERVAL) - 10 * 60_000 + 60_000);

    const check = await checkPipeline(deps);
    expect(check).toMatchObject({
      accounts: 51,
      forwarders: 102,
      silent: [{ ...broken, lastArrival: null }],
      uncovered: [],
      unreadable: [],
      alerted: 'problems',
    });
    expect(metrics.at(-1)).toEqual({ SilentForwarders: 1, UncoveredRegions: 0, UnreadableAccounts: 0, BrokenForwardingRules: 0 });
    expect(alerts()).toHaveLength(1);
    expect(alerts()[0]!.subject).toBe('[root-responder] Event forwarding: 1 silent, 0 broken rule(s), 0 uncovered region(s), 0 unreadable');
    expect(alerts()[0]!.body).toContain(`- ${broken.accountId} eu-west-1: no canary has arrived yet`);
    // Two runs so far, each reading the 51 accounts in three pages of 20; every account's regions are
    // read through its read role (the management account's through the responder's own).
    expect(
      aws.calls.filter((c) => c.command === 'ListAccountsCommand').map((c) => (c.input as { NextToken?: string }).NextToken ?? '-'),
    ).toEqual(['-', '20', '40', '-', '20', '40']);
    expect(new Set(aws.calls.filter((c) => c.command === 'ListRegionsCommand').map((c) => c.principal))).toEqual(
      new Set(['role', 'role:root-responder-read']),
    );
    expect(new Set(aws.calls.filter((c) => c.command === 'ListRegionsCommand').map((c) => `${c.accountId} ${c.principal}`)).size).toBe(51);

    // The same state again: no second alert while it lasts (the alarm stays in ALARM).
    clock.advance(60_000);
    expect((await checkPipeline(deps)).alerted).toBe(false);
    expect(alerts()).toHaveLength(1);

    // The rule is back: its canary arrives, and one message says forwarding is healthy again.
    await store.recordCanary(broken.accountId, broken.region, clock.now());
    for (const id of ids) for (const region of ['us-east-1', 'eu-west-1']) await store.recordCanary(id, region, clock.now());
    clock.advance(60_000);
    const healed = await checkPipeline(deps);
    expect(healed).toMatchObject({ silent: [], alerted: 'recovered' });
    expect(alerts().map((a) => a.subject)).toEqual([
      expect.stringContaining('1 silent'),
      '[root-responder] Event forwarding healthy again',
    ]);
  });

  it('a canary that stops after arriving is silent with its last arrival time', async () => {
    const { ids, aws } = organization(2);
    const clock = fixedClock(START);
    const { deps } = depsFor(aws, store, clock);
    await checkPipeline(deps);
    for (const id of ids) for (const region of ['us-east-1', 'eu-west-1']) await store.recordCanary(id, region, clock.now());
    const lastSeen = clock.now().toISOString();
    clock.advance(maxSilenceMs(INTERVAL) - 60_000);
    for (const id of ids)
      for (const region of ['us-east-1', 'eu-west-1']) if (id !== ids[1]) await store.recordCanary(id, region, clock.now());
    clock.advance(2 * 60_000);
    expect((await checkPipeline(deps)).silent).toEqual([
      { accountId: ids[1], region: 'eu-west-1', lastArrival: lastSeen },
      { accountId: ids[1], region: 'us-east-1', lastArrival: lastSeen },
    ]);
  });

  it('reports regions enabled later that the forwarding does not cover, per account', async () => {
    const { ids, aws } = organization(3, (id) =>
      id === '100000000001' ? ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'me-central-1'] : ['us-east-1', 'eu-west-1'],
    );
    const { deps, metrics } = depsFor(aws, store, fixedClock(START));
    const check = await checkPipeline(deps);
    expect(check.uncovered).toEqual([
      { accountId: '100000000001', region: 'ap-southeast-2' },
      { accountId: '100000000001', region: 'me-central-1' },
    ]);
    expect(metrics.at(-1)).toEqual({ SilentForwarders: 0, UncoveredRegions: 2, UnreadableAccounts: 0, BrokenForwardingRules: 0 });
    expect(alerts()[0]!.body).toContain('- 100000000001 me-central-1');
    expect(ids).toHaveLength(4);
  });

  it('an account whose read role is refused is listed as unreadable and its forwarders are still watched', async () => {
    const { ids, aws } = organization(2);
    aws.inject({ command: 'ListRegionsCommand', error: 'AccessDenied', times: Infinity, accountId: ids[2]! });
    const clock = fixedClock(START);
    const { deps } = depsFor(aws, store, clock);
    const check = await checkPipeline(deps);
    expect(check.unreadable).toEqual([
      { accountId: ids[2], reason: expect.stringMatching(/^AccessDeniedError: account:ListRegions was refused/) },
    ]);
    expect(check.forwarders).toBe(6);
    expect(alerts()[0]!.body).toContain('Accounts whose regions could not be read');
  });

  it('names a forwarding rule deleted or disabled in a member region, which the canary alone would not show', async () => {
    const { ids, aws } = organization(3);
    const member = aws.world.accounts[ids[2]!]!;
    // In eu-west-1 someone deleted the API-call rule and disabled the sign-in rule; the canary rule is intact.
    member.forwardingRules = {
      'eu-west-1': [
        { Name: 'root-responder-test-RootSignInRule', State: 'DISABLED' },
        { Name: 'root-responder-test-RootConsoleActionRule', State: 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS' },
        { Name: 'root-responder-test-RootPasswordRecoveryRule', State: 'ENABLED' },
        { Name: 'root-responder-test-GuardDutyRootFindingRule', State: 'ENABLED' },
        { Name: 'root-responder-test-CanaryRule', State: 'ENABLED' },
      ],
    };
    const { deps, metrics } = depsFor(aws, store, fixedClock(START));
    const check = await checkPipeline(deps);
    expect(check.brokenRules).toEqual([
      { accountId: ids[2], region: 'eu-west-1', rule: 'RootApiCallRule', problem: 'missing' },
      { accountId: ids[2], region: 'eu-west-1', rule: 'RootSignInRule', problem: 'disabled' },
    ]);
    expect(metrics.at(-1)).toMatchObject({ BrokenForwardingRules: 2 });
    expect(alerts()[0]!.body).toContain(`- ${ids[2]} eu-west-1: RootApiCallRule missing`);
    // Members' rules are read through their read role; the responder's own us-east-1 is not looked up.
    const lookups = aws.calls.filter((c) => c.command === 'ListRulesCommand');
    expect(lookups.filter((c) => c.accountId === MANAGEMENT).map((c) => c.region)).toEqual(['eu-west-1']);
    expect(new Set(lookups.filter((c) => c.accountId !== MANAGEMENT).map((c) => c.principal))).toEqual(
      new Set(['role:root-responder-read']),
    );
  });

  it('standalone: watches only its own account, through its own role', async () => {
    const { aws } = organization(3, () => ['us-east-1', 'eu-central-1']);
    const { deps } = depsFor(aws, store, fixedClock(START), { mode: 'standalone', forwardingRegions: ['us-east-1', 'eu-central-1'] });
    const check = await checkPipeline(deps);
    expect(check).toMatchObject({ accounts: 1, forwarders: 2, uncovered: [], silent: [] });
    // Its us-east-1 rules are its own stack's; eu-central-1's forwarding rules are looked up by name.
    expect(aws.calls.map((c) => `${c.command} ${c.accountId} ${c.region} ${c.principal}`)).toEqual([
      `ListRegionsCommand ${MANAGEMENT} us-east-1 role`,
      `ListRulesCommand ${MANAGEMENT} eu-central-1 role`,
    ]);
  });

  it('a failed alert is not recorded as sent: the next run sends it again', async () => {
    const { aws } = organization(1, () => ['us-east-1', 'eu-west-1', 'sa-east-1']);
    const clock = fixedClock(START);
    const { deps } = depsFor(aws, store, clock);
    snsMock.on(PublishCommand).rejectsOnce(Object.assign(new Error('denied'), { name: 'AuthorizationErrorException' }));
    await expect(checkPipeline(deps)).rejects.toThrow();
    snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
    expect((await checkPipeline(deps)).alerted).toBe('problems');
  });
});
