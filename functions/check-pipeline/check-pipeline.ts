import { createHash } from 'node:crypto';
import { ListRulesCommand } from '@aws-sdk/client-eventbridge';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { TargetClients } from '#shared/clients';
import type { Clock } from '#shared/clock';
import { awsCall, errorName } from '#shared/errors';
import { FORWARDED_RULES, forwardingRuleName } from '#shared/forwarding';
import type { PipelineMetric } from '#shared/pipeline-metrics';
import { MEMBER_READ_ROLE } from '#infra/names.cjs';
import { type CanaryArrival, type PipelineHealthStore, pipelineHealthStorePermissions } from '#shared/pipeline-health-store';
import { activeAccounts, enabledRegions, everyPage } from '#shared/inventory';
import type { Log } from '#shared/logger';
import { publish } from '#shared/notify';

/**
 * The pipeline check (scheduled): is every account and region still wired to the responder?
 * - Silent forwarders: every account (the organization's active accounts, or this one) sends a
 *   canary from every forwarding region on a schedule, through its own forwarding rule and the same
 *   role, target and bus policy as root events. An account+region whose canary stopped arriving
 *   lost its forwarding (the stack instance removed, the role broken, the bus policy changed). The
 *   canary rule is not the root rules, so:
 * - Broken rules: in every forwarding account and region (the responder's own us-east-1 aside, whose
 *   rules are its own stack's), each forwarding rule is looked up by name (events:ListRules): one
 *   deleted or disabled is named, in the management account and standalone regions too, where no
 *   SCP protects them.
 * - Uncovered regions: a region enabled in an account (opted into later, say) but not among the
 *   regions the forwarding is deployed to: root activity there would not reach the responder.
 * Published as metrics (the alarms) and, when what is wrong changes, as one alert listing it.
 */
export const requiredPermissions = [
  'organizations:ListAccounts',
  'account:ListRegions',
  'events:ListRules',
  'sns:Publish',
  ...pipelineHealthStorePermissions.check,
] as const;

export interface PipelineCheckDeps {
  mode: 'standalone' | 'organization';
  /** The stage: the forwarding rules are named root-responder-<stage>-<id>. */
  stage: string;
  responderAccountId: string;
  forwardingRegions: readonly string[];
  canaryIntervalMinutes: number;
  /** The responder's own clients (organizations:ListAccounts). */
  responder: TargetClients;
  /** The clients for an account (its read role in a member). */
  clientsFor: (accountId: string) => TargetClients;
  store: Pick<PipelineHealthStore, 'canaryArrivals' | 'pipelineHealth' | 'savePipelineHealth'>;
  sns: Pick<SNSClient, 'send'>;
  alertTopicArn: string;
  clock: Clock;
  log: Log;
  metrics: (values: Record<PipelineMetric, number>) => void;
}

export interface PipelineCheck {
  checkedAt: string;
  accounts: number;
  forwarders: number;
  silent: { accountId: string; region: string; lastArrival: string | null }[];
  uncovered: { accountId: string; region: string }[];
  unreadable: { accountId: string; reason: string }[];
  brokenRules: { accountId: string; region: string; rule: string; problem: 'missing' | 'disabled' }[];
  alerted: 'problems' | 'recovered' | false;
}

/** Accounts read at once (each is one role assumption and one ListRegions). */
const CONCURRENCY = 8;

/** A canary may be this late before its forwarder counts as silent: two missed sends and 5 minutes of slack. */
export function maxSilenceMs(intervalMinutes: number): number {
  return (2 * intervalMinutes + 5) * 60_000;
}

async function accountsToWatch(deps: PipelineCheckDeps): Promise<{ id: string; joined?: Date }[]> {
  if (deps.mode === 'standalone') return [{ id: deps.responderAccountId }];
  // A suspended or closed account forwards nothing.
  return activeAccounts(deps.responder);
}

/** Which of the forwarding rules are missing or disabled in one account and region. */
async function brokenRulesIn(
  clients: TargetClients,
  region: string,
  stage: string,
): Promise<{ rule: string; problem: 'missing' | 'disabled' }[]> {
  const prefix = forwardingRuleName(stage, '');
  const rules = await everyPage(async (token) => {
    const out = await awsCall('events:ListRules', () =>
      clients.events(region).send(new ListRulesCommand({ NamePrefix: prefix, Limit: 100, ...(token ? { NextToken: token } : {}) })),
    );
    return { items: out.Rules, next: out.NextToken };
  });
  const found = new Map(rules.filter((r) => r.Name).map((r) => [r.Name!, r.State ?? 'ENABLED']));
  const broken: { rule: string; problem: 'missing' | 'disabled' }[] = [];
  for (const id of FORWARDED_RULES) {
    const state = found.get(forwardingRuleName(stage, id));
    if (state === undefined) broken.push({ rule: id, problem: 'missing' });
    else if (state === 'DISABLED') broken.push({ rule: id, problem: 'disabled' });
  }
  return broken;
}

async function inBatches<T, R>(items: T[], size: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(run))));
  return results;
}

function digestOf(check: Pick<PipelineCheck, 'silent' | 'uncovered' | 'unreadable' | 'brokenRules'>): string {
  const lines = [
    ...check.silent.map((s) => `silent ${s.accountId} ${s.region}`),
    ...check.uncovered.map((u) => `uncovered ${u.accountId} ${u.region}`),
    ...check.unreadable.map((u) => `unreadable ${u.accountId}`),
    ...check.brokenRules.map((b) => `rule ${b.accountId} ${b.region} ${b.rule} ${b.problem}`),
  ].sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}
/** The digest of a check that found nothing wrong. */
export const HEALTHY_DIGEST = digestOf({ silent: [], uncovered: [], unreadable: [], brokenRules: [] });

const LISTED = 50;
function listed<T>(items: T[], line: (item: T) => string): string[] {
  return [
    ...items.slice(0, LISTED).map((i) => `- ${line(i)}`),
    ...(items.length > LISTED ? [`- ... and ${items.length - LISTED} more`] : []),
  ];
}

function alertText(check: PipelineCheck, intervalMinutes: number): { subject: string; body: string } {
  const subject = `[root-responder] Event forwarding: ${check.silent.length} silent, ${check.brokenRules.length} broken rule(s), ${check.uncovered.length} uncovered region(s), ${check.unreadable.length} unreadable`;
  const body = [
    `The pipeline check at ${check.checkedAt} watched ${check.forwarders} account/region forwarder(s) in ${check.accounts} account(s).`,
    '',
    ...(check.silent.length > 0
      ? [
          `No canary within ${maxSilenceMs(intervalMinutes) / 60_000} minutes from these (root activity there may not reach the responder; check the forwarding stack instance, its rules and the forwarding role):`,
          ...listed(
            check.silent,
            (s) => `${s.accountId} ${s.region}: ${s.lastArrival ? `last canary ${s.lastArrival}` : 'no canary has arrived yet'}`,
          ),
          '',
        ]
      : []),
    ...(check.brokenRules.length > 0
      ? [
          'Forwarding rules deleted or disabled (root activity of that kind there does not reach the responder; redeploy the forwarding stack instance):',
          ...listed(check.brokenRules, (b) => `${b.accountId} ${b.region}: ${b.rule} ${b.problem}`),
          '',
        ]
      : []),
    ...(check.uncovered.length > 0
      ? [
          'Enabled regions without forwarding (add them to forwardingRegions and to the forwarding StackSet):',
          ...listed(check.uncovered, (u) => `${u.accountId} ${u.region}`),
          '',
        ]
      : []),
    ...(check.unreadable.length > 0
      ? [
          `Accounts whose regions could not be read (is ${MEMBER_READ_ROLE} deployed there?):`,
          ...listed(check.unreadable, (u) => `${u.accountId}: ${u.reason}`),
          '',
        ]
      : []),
    'This message is sent when the list changes; the alarms stay in ALARM while anything is listed.',
  ].join('\n');
  return { subject, body };
}

export async function checkPipeline(deps: PipelineCheckDeps): Promise<PipelineCheck> {
  const now = deps.clock.now();
  const [accounts, arrivals, previous] = await Promise.all([
    accountsToWatch(deps),
    deps.store.canaryArrivals(),
    deps.store.pipelineHealth(),
  ]);
  const watchingSince = previous ? new Date(previous.firstCheckAt) : now;
  const lastArrival = new Map(arrivals.map((a: CanaryArrival) => [`${a.accountId}#${a.region}`, a.receivedAt]));
  const limit = maxSilenceMs(deps.canaryIntervalMinutes);

  const check: PipelineCheck = {
    checkedAt: now.toISOString(),
    accounts: accounts.length,
    forwarders: 0,
    silent: [],
    uncovered: [],
    unreadable: [],
    brokenRules: [],
    alerted: false,
  };
  const describe = (error: unknown) => `${errorName(error)}: ${(error as Error).message}`.slice(0, 300);
  const perAccount = await inBatches(accounts, CONCURRENCY, async (account) => {
    const clients = deps.clientsFor(account.id);
    let enabled: string[] | undefined;
    try {
      enabled = await enabledRegions(clients);
    } catch (error) {
      return { account, enabled: undefined, reason: describe(error), broken: [] };
    }
    // The responder's own us-east-1 rules are its stack's (other names); every other forwarder's are looked up.
    const regions = deps.forwardingRegions.filter(
      (r) => enabled.includes(r) && !(account.id === deps.responderAccountId && r === 'us-east-1'),
    );
    try {
      const broken = (
        await Promise.all(
          regions.map(async (region) =>
            (await brokenRulesIn(clients, region, deps.stage)).map((b) => ({ accountId: account.id, region, ...b })),
          ),
        )
      ).flat();
      return { account, enabled, reason: undefined, broken };
    } catch (error) {
      return { account, enabled, reason: describe(error), broken: [] };
    }
  });
  for (const { account, enabled, reason, broken } of perAccount) {
    if (reason !== undefined) check.unreadable.push({ accountId: account.id, reason });
    check.brokenRules.push(...broken);
    // Unreadable regions: the forwarding regions are still expected to send canaries.
    const watched = enabled ? deps.forwardingRegions.filter((r) => enabled.includes(r)) : [...deps.forwardingRegions];
    for (const region of enabled ?? [])
      if (!deps.forwardingRegions.includes(region)) check.uncovered.push({ accountId: account.id, region });
    // A new account or a fresh deployment gets one silence period before it must have reported.
    const since = Math.max(watchingSince.getTime(), account.joined?.getTime() ?? 0);
    for (const region of watched) {
      check.forwarders += 1;
      const last = lastArrival.get(`${account.id}#${region}`) ?? null;
      const silentFor = now.getTime() - (last ? Date.parse(last) : since);
      if (silentFor > limit) check.silent.push({ accountId: account.id, region, lastArrival: last });
    }
  }
  const byKey = <T extends { accountId: string; region?: string }>(a: T, b: T) =>
    `${a.accountId}${a.region ?? ''}`.localeCompare(`${b.accountId}${b.region ?? ''}`);
  check.silent.sort(byKey);
  check.uncovered.sort(byKey);
  check.unreadable.sort(byKey);
  check.brokenRules.sort((a, b) => `${a.accountId}${a.region}${a.rule}`.localeCompare(`${b.accountId}${b.region}${b.rule}`));

  deps.metrics({
    SilentForwarders: check.silent.length,
    UncoveredRegions: check.uncovered.length,
    UnreadableAccounts: check.unreadable.length,
    BrokenForwardingRules: check.brokenRules.length,
  });
  const digest = digestOf(check);
  if (digest !== (previous?.digest ?? HEALTHY_DIGEST)) {
    if (digest === HEALTHY_DIGEST) {
      await publish(deps.sns, deps.alertTopicArn, {
        subject: '[root-responder] Event forwarding healthy again',
        body: `The pipeline check at ${check.checkedAt}: every one of ${check.forwarders} forwarder(s) in ${check.accounts} account(s) sent its canary, and every enabled region is covered.`,
      });
      check.alerted = 'recovered';
    } else {
      await publish(deps.sns, deps.alertTopicArn, alertText(check, deps.canaryIntervalMinutes));
      check.alerted = 'problems';
    }
  }
  await deps.store.savePipelineHealth({ firstCheckAt: watchingSince.toISOString(), digest });
  deps.log.info('Pipeline checked', {
    accounts: check.accounts,
    forwarders: check.forwarders,
    silent: check.silent.length,
    brokenRules: check.brokenRules.length,
    uncovered: check.uncovered.length,
    unreadable: check.unreadable.length,
    alerted: check.alerted,
  });
  return check;
}
