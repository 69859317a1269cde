import { expect } from '@jest/globals';
import { DisableRuleCommand, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { fixedClock } from '#shared/clock';
import { FORWARDED_RULES, forwardingRuleName } from '#shared/forwarding';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import { memoryLog } from '#shared/logger';
import { checkPipeline, type PipelineCheckDeps } from '#functions/check-pipeline/check-pipeline';
import { ACCOUNT, describeMoto, itKeepsTheManifestHonest, useMoto, watchSent } from './moto';

/**
 * The pipeline check on moto: the organization's accounts from Organizations (ListAccounts), the
 * forwarding rules per account and region from EventBridge (ListRules, every page), the canary
 * arrivals and last state from the incidents table, the alert on SNS. Enabled regions come from
 * the ListRegions stub. Each member account is reached through moto's per-account header, the
 * stand-in for its read role. moto stamps JoinedTimestamp with the wall clock, so the check's
 * clock runs an hour after it.
 */
describeMoto('contract: pipeline check', () => {
  const moto = useMoto();
  const REGIONS = ['us-east-1', 'eu-west-1'];
  let clock: ReturnType<typeof fixedClock>;
  let workload: string;
  let sandbox: string;
  let store: PipelineHealthStore;
  let deps: PipelineCheckDeps;
  let metrics: Record<string, number>[];
  const minutesAgo = (m: number) => new Date(clock.now().getTime() - m * 60_000);

  async function forwardingRules(accountId: string, region: string, skip: string[] = []): Promise<void> {
    const events = moto.aws.eventsAdmin(region, accountId);
    for (const id of FORWARDED_RULES.filter((r) => !skip.includes(r))) {
      const state =
        id === 'RootApiCallRule' || id === 'RootConsoleActionRule' ? 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS' : 'ENABLED';
      await events.send(
        new PutRuleCommand({
          Name: forwardingRuleName('test', id),
          EventPattern: JSON.stringify({ source: ['aws.signin'] }),
          State: state,
        }),
      );
    }
  }

  /** Every account forwards from every region (the responder's own us-east-1 is its stack's), except `missing` rules. */
  async function organization(
    options: { missing?: { accountId: () => string; region: string; rules: string[] }; sandboxRegions?: string[] } = {},
  ): Promise<void> {
    for (const account of [ACCOUNT, workload, sandbox]) {
      moto.aws.stub(account, { regions: account === sandbox && options.sandboxRegions ? options.sandboxRegions : REGIONS });
      for (const region of REGIONS) {
        if (account === ACCOUNT && region === 'us-east-1') continue;
        const skip =
          options.missing && options.missing.accountId() === account && options.missing.region === region ? options.missing.rules : [];
        await forwardingRules(account, region, skip);
      }
    }
  }

  const canaries = async (except: { accountId: string; region: string }[] = []) => {
    for (const account of [ACCOUNT, workload, sandbox])
      for (const region of REGIONS)
        if (!except.some((e) => e.accountId === account && e.region === region)) await store.recordCanary(account, region, minutesAgo(10));
  };

  beforeEach(async () => {
    await moto.reset();
    clock = fixedClock(new Date(Date.now() + 3_600_000));
    [workload, sandbox] = (await moto.aws.createOrganization(['workload', 'sandbox'])).members as [string, string];
    store = new PipelineHealthStore(moto.aws.documentClient(), (await moto.aws.createTables()).incidents);
    const topicArn = (await moto.aws.snsAdmin().send(new CreateTopicCommand({ Name: 'root-responder-test-alerts' }))).TopicArn!;
    metrics = [];
    deps = {
      mode: 'organization',
      stage: 'test',
      responderAccountId: ACCOUNT,
      forwardingRegions: REGIONS,
      canaryIntervalMinutes: 15,
      responder: moto.aws.target(),
      clientsFor: (accountId) => moto.aws.target(accountId),
      store,
      sns: moto.aws.sns(),
      alertTopicArn: topicArn,
      clock,
      log: memoryLog(),
      metrics: (values) => metrics.push(values),
    };
  });

  it('a healthy organization: every forwarder has its rules and its canary; no alert', async () => {
    await organization();
    await canaries();
    const sentNow = watchSent();
    const out = await checkPipeline(deps);
    expect(out).toMatchObject({ accounts: 3, forwarders: 6, silent: [], uncovered: [], unreadable: [], brokenRules: [], alerted: false });
    expect(metrics).toEqual([{ SilentForwarders: 0, UncoveredRegions: 0, UnreadableAccounts: 0, BrokenForwardingRules: 0 }]);
    expect(sentNow('ListAccountsCommand')[0]!.output!['Accounts']).toEqual(
      expect.arrayContaining([expect.objectContaining({ Id: workload, Status: 'ACTIVE', JoinedTimestamp: expect.any(Date) })]),
    );
    expect(sentNow('PublishCommand')).toEqual([]);
  });

  it('a deleted and a disabled rule, an uncovered region, a silent forwarder: one alert naming them, not repeated', async () => {
    await organization({
      missing: { accountId: () => sandbox, region: 'eu-west-1', rules: ['CanaryRule'] },
      sandboxRegions: [...REGIONS, 'ap-southeast-2'],
    });
    await moto.aws.eventsAdmin('eu-west-1', sandbox).send(new DisableRuleCommand({ Name: forwardingRuleName('test', 'RootApiCallRule') }));
    await canaries([{ accountId: sandbox, region: 'eu-west-1' }]);
    await store.savePipelineHealth({ firstCheckAt: minutesAgo(180).toISOString(), digest: 'the previous state' });

    const sentNow = watchSent();
    const out = await checkPipeline(deps);
    expect(out.brokenRules).toEqual([
      { accountId: sandbox, region: 'eu-west-1', rule: 'CanaryRule', problem: 'missing' },
      { accountId: sandbox, region: 'eu-west-1', rule: 'RootApiCallRule', problem: 'disabled' },
    ]);
    expect(out.uncovered).toEqual([{ accountId: sandbox, region: 'ap-southeast-2' }]);
    expect(out.silent).toEqual([{ accountId: sandbox, region: 'eu-west-1', lastArrival: null }]);
    expect(out.alerted).toBe('problems');
    expect(sentNow('PublishCommand').map((s) => s.error)).toEqual([undefined]);
    expect(String(sentNow('PublishCommand')[0]!.input['Message'])).toContain(`${sandbox} eu-west-1: CanaryRule missing`);

    expect((await checkPipeline(deps)).alerted).toBe(false);
    expect(sentNow('PublishCommand')).toHaveLength(1);
  });

  it('ListRules past one page (Limit 100): forwarding rules after 120 others are found', async () => {
    const events = moto.aws.eventsAdmin('eu-west-1', workload);
    for (let i = 0; i < 120; i++)
      await events.send(
        new PutRuleCommand({ Name: forwardingRuleName('test', `Other${String(i).padStart(3, '0')}`), ScheduleExpression: 'rate(1 day)' }),
      );
    await organization();
    await canaries();
    const sentNow = watchSent();
    expect((await checkPipeline(deps)).brokenRules).toEqual([]);
    expect(sentNow('ListRulesCommand').filter((s) => s.input['NextToken'] !== undefined).length).toBeGreaterThanOrEqual(1);
  });

  itKeepsTheManifestHonest(__filename);
});
