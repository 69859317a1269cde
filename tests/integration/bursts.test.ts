import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { AlertDigestStore } from '#shared/alert-digest-store';
import { fixedClock } from '#shared/clock';
import { IncidentStore } from '#shared/incident-store';
import { OwnSessionStore } from '#shared/own-session-store';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import { knownSources } from '#shared/known-sources';
import { memoryLog } from '#shared/logger';
import { intake, type IntakeDeps } from '#functions/intake/intake';
import { sendAlertDigests } from '#functions/send-alert-digest/send-alert-digest';
import { requestApproval } from '#functions/request-approval/request-approval';
import { ApprovalStore } from '#shared/approval-store';
import { SimulatedSns } from '#drill/simulated-sns';
import { toEventBridge } from '#drill/envelope';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { fixture } from '../helpers';

/**
 * Duplicates and bursts: a root console session fires hundreds of events within a minute, in any
 * order, through concurrent intake invocations; EventBridge may deliver some twice. Exactly one
 * execution starts per account.
 */
const sfnMock = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
const MACHINE = 'arn:aws:states:us-east-1:999988887777:stateMachine:root-responder-test';

function setup() {
  const started = new Set<string>();
  sfnMock.reset();
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => {
    if (started.has(input.name)) throw new ExecutionAlreadyExists({ message: 'exists', $metadata: {} });
    started.add(input.name);
    return { executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:${input.name}`, startDate: new Date() };
  });
  // The executions intake started run (an open incident's marker is checked with DescribeExecution).
  sfnMock.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    if (!started.has(input.executionArn.split(':').pop()!)) throw new ExecutionDoesNotExist({ message: 'no', $metadata: {} });
    return { executionArn: input.executionArn, status: 'RUNNING' };
  });
  const ddb = new SimulatedDynamoDb();
  const store = new IncidentStore(ddb as never, 'incidents');
  const deps: IntakeDeps = {
    store,
    ownSessions: new OwnSessionStore(ddb as never, 'incidents'),
    pipeline: new PipelineHealthStore(ddb as never, 'incidents'),
    sfn: new SFNClient({ region: 'us-east-1' }),
    sns: new SNSClient({ region: 'us-east-1' }),
    clock: fixedClock('2024-03-04T10:30:00Z'),
    log: memoryLog(),
    config: {
      stateMachineArn: MACHINE,
      alertTopicArn: 'arn:aws:sns:us-east-1:999988887777:alerts',
      knownSources: knownSources([]),
      settings: { approvalWaitSeconds: 3600, maxReminders: 3 },
    },
  };
  return { deps, store, started };
}

const session = fixture('written/root_console_session_createuser_sessioncredentialfromconsole__written.json');
const NAMES = ['CreateUser', 'AttachUserPolicy', 'ListBuckets', 'RunInstances', 'PutBucketPolicy', 'DescribeInstances', 'CreateAccessKey'];

function burst(accountId: string, n: number): Record<string, unknown>[] {
  const base = Date.parse('2024-03-04T10:05:00Z');
  return Array.from({ length: n }, (_, i) =>
    toEventBridge({
      ...session,
      eventID: `${accountId}-${i}`,
      eventName: NAMES[i % NAMES.length],
      readOnly: /^(List|Describe)/.test(NAMES[i % NAMES.length]!),
      eventTime: new Date(base + Math.floor((i * 60_000) / n)).toISOString(),
      recipientAccountId: accountId,
      userIdentity: { ...(session['userIdentity'] as object), accountId, arn: `arn:aws:iam::${accountId}:root` },
    }),
  );
}

async function deliver(events: Record<string, unknown>[], deps: IntakeDeps, concurrency: number) {
  const outcomes: string[] = [];
  for (let i = 0; i < events.length; i += concurrency) {
    const batch = await Promise.all(events.slice(i, i + concurrency).map((e) => intake(e, deps)));
    outcomes.push(...batch.map((b) => b.outcome));
  }
  return outcomes;
}

describe('duplicates and bursts', () => {
  it('1,000 root events of one session in one minute, shuffled, 20 at a time, some delivered twice: one execution', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (seed) => {
        const { deps, store, started } = setup();
        const events = burst('111122223333', 1000);
        const shuffled = fc.sample(fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), {
          seed,
          numRuns: 1,
        })[0]!;
        const redelivered = [...shuffled, ...shuffled.slice(0, 50)];
        const outcomes = await deliver(redelivered, deps, 20);
        expect(started.size).toBe(1);
        // One opening alert: the concurrent attachers leave finishing the opening to the opener.
        expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
        expect(outcomes.filter((o) => o === 'opened')).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'attached')).toHaveLength(1049);
        // At most one DescribeExecution per event that found the incident open (and none before its execution started).
        expect(sfnMock.commandCalls(DescribeExecutionCommand).length).toBeLessThanOrEqual(1049);
        const open = await store.openIncident('111122223333');
        expect((await store.events(open!.incidentId)).length).toBe(1000);
      }),
      { numRuns: 3 },
    );
  }, 60_000);

  it('bursts from two accounts at once: two executions', async () => {
    const { deps, started } = setup();
    const events = [...burst('111122223333', 200), ...burst('444455556666', 200)].sort(() => 0.5 - Math.random());
    await deliver(events, deps, 25);
    expect([...started].map((name) => name.split('-')[0]).sort()).toEqual(['111122223333', '444455556666']);
  });
});

/**
 * Alert volume: 1,000 root calls in one minute, as a console session fires them (the published
 * CreateUser session record, repeated with other event names, read-only ones among them). The first
 * alerts at once; the rest are counted and summarised by the digest, run on its schedule (every 15
 * minutes). Delivered through the real intake and digest on the simulated DynamoDB and SNS.
 */
describe('alert volume', () => {
  const ALERTS = 'arn:aws:sns:us-east-1:999988887777:alerts';
  const RESPONDERS = 'arn:aws:sns:us-east-1:999988887777:tasks';
  const INTERVAL_MS = 15 * 60_000;

  function world(start: string) {
    const { deps: base } = setup();
    const ddb = (base.store as unknown as { ddb: SimulatedDynamoDb }).ddb;
    const clock = fixedClock(start);
    const sns = new SimulatedSns(() => clock.now());
    const digests = new AlertDigestStore(ddb as never, 'incidents');
    const deps: IntakeDeps = {
      ...base,
      sns: sns as never,
      clock,
      digests,
      config: { ...base.config, alertTopicArn: ALERTS, digestIntervalSeconds: INTERVAL_MS / 1000 },
    };
    const digest = () =>
      sendAlertDigests({ digests, sns: sns as never, alertTopicArn: ALERTS, intervalMinutes: 15, clock, log: memoryLog() });
    return { deps, clock, sns, digest, digests };
  }

  /** The burst arrives over one minute from `start`, 20 events at a time; the digest runs at every multiple of 15 minutes. */
  async function run(
    start: string,
    events: Record<string, unknown>[],
    during?: { afterEvents: number; act: (w: ReturnType<typeof world>) => Promise<unknown> },
  ) {
    const w = world(start);
    const begin = Date.parse(start);
    let nextDigest = Math.ceil(begin / INTERVAL_MS) * INTERVAL_MS;
    const runs: Awaited<ReturnType<typeof w.digest>>[] = [];
    const digestsUntil = async (t: number) => {
      while (nextDigest <= t) {
        w.clock.set(new Date(nextDigest));
        runs.push(await w.digest());
        nextDigest += INTERVAL_MS;
      }
    };
    for (let i = 0; i < events.length; i += 20) {
      const at = begin + Math.floor((i * 60_000) / events.length);
      await digestsUntil(at);
      w.clock.set(new Date(at));
      await Promise.all(events.slice(i, i + 20).map((e) => intake(e, w.deps)));
      if (during && i + 20 === during.afterEvents) await during.act(w);
    }
    await digestsUntil(begin + 3 * 3_600_000); // three quiet hours after the burst
    return { ...w, runs };
  }

  it('1,000 root calls in a minute: one alert at once, then one digest; read-only calls counted, not mailed', async () => {
    const { sns, runs } = await run('2024-03-04T10:31:00Z', burst('111122223333', 1000));
    const alerts = sns.outbox.filter((m) => m.topicArn === ALERTS);
    expect(alerts.map((m) => [m.at, m.subject])).toEqual([
      ['2024-03-04T10:31:00.000Z', '[root-responder] CRITICAL: root activity in account 111122223333'],
      [
        '2024-03-04T10:45:00.000Z',
        expect.stringMatching(/^\[root-responder\] 999 more root events in 111122223333 \(111122223333-\d{8}T\d{6}Z-[0-9a-f]{10}\)$/),
      ],
    ]);
    const body = alerts[1]!.body;
    // 1,000 events over 7 names: 143 of the first six, 142 of the seventh; the opening CreateUser is in the alert.
    for (const [name, count] of [
      ['CreateUser', 142],
      ['AttachUserPolicy', 143],
      ['ListBuckets', 143],
      ['CreateAccessKey', 142],
    ] as const)
      expect(body).toMatch(new RegExp(`^  ${name} +${count}$`, 'm'));
    expect(body).toContain('999 more root events since the last email, 286 of them read-only');
    expect(sns.outbox.filter((m) => m.topicArn === RESPONDERS)).toEqual([]);
    // Nothing new after the digest: later runs send nothing and drop the incident's counter.
    expect(runs.slice(1).every((r) => r.sent.length === 0)).toBe(true);
    expect(runs[1]!.dropped).toBe(1);
  }, 60_000);

  it('the same burst with a digest run inside the minute: at most three emails (the bound the README states)', async () => {
    const { sns } = await run('2024-03-04T10:44:30Z', burst('111122223333', 1000));
    const alerts = sns.outbox.filter((m) => m.topicArn === ALERTS);
    expect(alerts.map((m) => m.at)).toEqual(['2024-03-04T10:44:30.000Z', '2024-03-04T10:45:00.000Z', '2024-03-04T11:00:00.000Z']);
    const reported = alerts.slice(1).map((m) => Number(/\] (\d+) more root events/.exec(m.subject)![1]));
    expect(reported.reduce((a, b) => a + b, 0)).toBe(999);
  }, 60_000);

  it("this responder's own AssumeRoot session never alerts, however many calls it makes", async () => {
    const own = fixture('written/root_assumeroot_session_deleteaccesskey__written.json');
    const events = Array.from({ length: 300 }, (_, i) => toEventBridge({ ...own, eventID: `own-${i}` }));
    const w = world('2024-03-04T10:31:00Z');
    const keyId = (own['userIdentity'] as { accessKeyId: string }).accessKeyId;
    await new OwnSessionStore((w.deps.store as unknown as { ddb: SimulatedDynamoDb }).ddb as never, 'incidents').recordOwnSession(
      String(own['recipientAccountId']),
      keyId,
      new Date('2024-03-04T10:30:00Z'),
    );
    const outcomes = await Promise.all(events.map((e) => intake(e, w.deps)));
    expect(new Set(outcomes.map((o) => o.outcome))).toEqual(new Set(['benign']));
    expect((await w.digest()).sent).toEqual([]);
    expect(w.sns.outbox).toEqual([]);
  });

  it('an approval requested in the middle of the burst is mailed at once, behind the opening alert only', async () => {
    const task = { id: 'change-root-password', kind: 'console' as const };
    const requestDuringBurst = (w: ReturnType<typeof world>) =>
      requestApproval(
        {
          token: 'task-token',
          input: {
            incidentId: 'i',
            accountId: '111122223333',
            severity: 'critical',
            task,
            waitSeconds: 3600,
            reminders: 0,
            maxReminders: 3,
          },
        },
        {
          approvals: new ApprovalStore(new SimulatedDynamoDb() as never, 'approvals'),
          sns: w.sns as never,
          respondersTopicArn: RESPONDERS,
          approvalsBaseUrl: 'https://approvals.example',
          expiryHours: 24,
          clock: w.clock,
          taskDetails: () => Promise.resolve({ ...task, title: 'Change the root password', why: ['w'], steps: ['s'], verification: 'v' }),
        },
      );
    const { sns } = await run('2024-03-04T10:31:00Z', burst('111122223333', 1000), { afterEvents: 200, act: requestDuringBurst });
    // One mailbox subscribed to both topics, in delivery order.
    expect(sns.outbox.map((m) => [m.at, m.topicArn === RESPONDERS ? 'approval' : 'alert'])).toEqual([
      ['2024-03-04T10:31:00.000Z', 'alert'],
      ['2024-03-04T10:31:10.800Z', 'approval'],
      ['2024-03-04T10:45:00.000Z', 'alert'],
    ]);
  }, 60_000);
});
