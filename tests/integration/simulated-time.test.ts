import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DRILL_ENV, type DrillResult, runDrill } from '#drill/drill';
import { LocalStepFunctions } from '#drill/local-step-functions';
import { SimClock } from '#drill/sim-clock';
import { TaskTokenBroker } from '#drill/task-tokens';

/**
 * The drill runs on a clock it owns: production settings (60-minute reminders, 3 reminders,
 * 24-hour links) pass in seconds of real time, and the same scenario gives the same run.
 */
const out = () => mkdtempSync(join(tmpdir(), 'simtime-'));
const NOW = new Date('2026-11-30T12:00:00Z');

interface Report {
  status: string;
  humanTasks: { id: string; status: string }[];
}
const reportOf = (r: DrillResult) => JSON.parse(readFileSync(join(r.outDir, 'report.json'), 'utf8')) as Report;
const statusOf = (r: DrillResult) => Object.fromEntries(reportOf(r).humanTasks.map((t) => [t.id, t.status]));
const minutesAfter = (at: string) => (new Date(at).getTime() - NOW.getTime()) / 60_000;

describe('the drill on simulated time', () => {
  let slow: DrillResult;
  beforeAll(async () => {
    slow = await runDrill({ scenario: 'slow-responders', approve: 'all', now: NOW, out: out() });
  }, 60_000);

  it('runs with the production settings of config/example.json', () => {
    expect({
      reminder: DRILL_ENV.REMINDER_INTERVAL_SECONDS,
      reminders: DRILL_ENV.MAX_REMINDERS,
      expiry: DRILL_ENV.APPROVAL_EXPIRY_HOURS,
    }).toEqual({ reminder: '3600', reminders: '3', expiry: '24' });
  });

  it('responders who answer after 45 minutes, after the first reminder, and never', () => {
    const statuses = statusOf(slow);
    expect(statuses['delete-root-access-keys']).toBe('done');
    expect(statuses['change-root-password']).toBe('done');
    expect(statuses['contact-aws-support']).toBe('overdue');
    // 10 done: with the stop-instances undo for the instance root's user launched.
    expect(Object.values(statuses).filter((s) => s === 'done')).toHaveLength(10);
    const reminders = slow.outbox.filter((m) => m.subject.includes('Reminder:'));
    // The password task was answered on its first reminder; Support was reminded three times.
    expect(reminders.filter((m) => m.subject.includes('Change the root password'))).toHaveLength(1);
    expect(reminders.filter((m) => m.subject.includes('Contact AWS Support'))).toHaveLength(3);
    // Reminders come an hour apart on the drill's clock; escalation after the third.
    const support = reminders.filter((m) => m.subject.includes('Contact AWS Support')).map((m) => Math.round(minutesAfter(m.at)));
    expect(support[1]! - support[0]!).toBe(60);
    expect(support[2]! - support[1]!).toBe(60);
    const overdue = slow.outbox.find((m) => m.topicArn === DRILL_ENV.ESCALATION_TOPIC_ARN)!;
    expect(minutesAfter(overdue.at) - support[2]!).toBeGreaterThanOrEqual(60);
    // About four hours of simulated time passed (the unanswered task), none of it waited for.
    expect(slow.simulated.ms).toBeGreaterThanOrEqual(4 * 3600_000);
    expect(slow.simulated.ms).toBeLessThan(5 * 3600_000);
  });

  it('the first decision lands 45 minutes after its email, before any reminder', () => {
    const requested = slow.outbox.find((m) => m.subject.startsWith('[root-responder] Delete the root access keys'))!;
    const report = slow.outbox.find((m) => m.subject.startsWith('[root-responder] Report'))!;
    expect(Math.round(minutesAfter(requested.at))).toBeLessThan(2);
    expect(slow.executions[0]!.status).toBe('SUCCEEDED');
    expect(minutesAfter(report.at)).toBeGreaterThan(240);
  });

  it('the same scenario and start give the same run: events, emails and report', async () => {
    const again = await runDrill({ scenario: 'slow-responders', approve: 'all', now: NOW, out: out() });
    const timeline = (r: DrillResult) =>
      r.executions[0]!.events.map((e) => `${e.timestamp - NOW.getTime()} ${e.type} ${e.state ?? ''} ${e.index ?? ''}`);
    expect(timeline(again)).toEqual(timeline(slow));
    const mail = (r: DrillResult) => r.outbox.map((m) => `${m.at} ${m.topicArn} ${m.subject}`);
    expect(mail(again)).toEqual(mail(slow));
    const strip = (r: DrillResult) =>
      readFileSync(join(r.outDir, 'report.json'), 'utf8')
        .split(r.outDir)
        .join('<out>')
        .replace(/\/approvals\/[A-Za-z0-9_-]{43}/g, '/approvals/<id>');
    expect(strip(again)).toEqual(strip(slow));
  }, 60_000);
});

describe('AWS limits in the local Step Functions', () => {
  it('a task result over 256 KiB fails the execution with States.DataLimitExceeded, which no Catch catches', async () => {
    const result = await runDrill({
      approve: 'none',
      now: NOW,
      out: out(),
      handlerFor: (fn, deployed) =>
        fn === 'assessIncident'
          ? async (event) => {
              const assessed = (await deployed(event)) as Record<string, unknown>;
              return { ...assessed, padding: 'x'.repeat(270_000) };
            }
          : deployed,
    });
    const [execution] = result.executions;
    expect(execution!.status).toBe('FAILED');
    expect(execution!.error).toBe('States.DataLimitExceeded');
    // Report Failure catches States.ALL, but not this: the responders hear nothing from the workflow.
    expect(execution!.statesEntered).not.toContain('Report Failure');
    expect(execution!.statesEntered.at(-1)).toBe('Assess Incident');
  });

  it('records the largest state each execution carried', async () => {
    const result = await runDrill({ approve: 'all', now: NOW, out: out() });
    const { largestState } = result.executions[0]!;
    expect(largestState.bytes).toBeGreaterThan(1000);
    expect(largestState.bytes).toBeLessThan(256 * 1024);
    expect(largestState.where).toMatch(/\((input|output|result)\)$/);
  });

  it('an EventBridge event over 256 KB never reaches intake (RequestTooLargeException); the others do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'big-event-'));
    const published = JSON.parse(
      readFileSync(join(__dirname, '../../scenarios/data/panther_scenario__compromised_root_creds__attacker_cloudtrail.json'), 'utf8'),
    ) as { Records?: unknown[] } | unknown[];
    const records = (Array.isArray(published) ? published : published.Records!) as Record<string, unknown>[];
    const big = { ...records[3], eventID: 'written-oversized-0001', requestParameters: { padding: 'x'.repeat(300_000) } };
    writeFileSync(join(dir, 'records.json'), JSON.stringify({ Records: [records[3], big] }));
    writeFileSync(
      join(dir, 'big-event.json'),
      JSON.stringify({
        name: 'big-event',
        description: 'one ordinary root sign-in and one 300 KB record (written)',
        accounts: [{ accountId: '210987654321', name: 'acme', root: {} }],
        sources: [{ file: 'records.json', fromAccountId: '493859302102' }],
      }),
    );
    const result = await runDrill({ scenario: join(dir, 'big-event.json'), approve: 'none', now: NOW, out: out() });
    expect(result.intake.map((l) => (l.error ? l.error.split(':')[0] : l.outcome))).toEqual(['opened', 'RequestTooLargeException']);
  });

  const machine = () =>
    new LocalStepFunctions({ broker: new TaskTokenBroker(), clock: new SimClock(NOW), stateMachineArn: DRILL_ENV.STATE_MACHINE_ARN });
  it('StartExecution refuses names AWS refuses (InvalidName) and input over 256 KiB (ValidationException)', async () => {
    const sfn = machine();
    for (const name of ['', 'a'.repeat(81), 'has space', 'a/b', 'a:b', 'x*', 'tab\there', 'brace{']) {
      await expect(
        sfn.send(new StartExecutionCommand({ stateMachineArn: DRILL_ENV.STATE_MACHINE_ARN, name, input: '{}' })),
      ).rejects.toMatchObject({ name: 'InvalidName' });
    }
    await expect(
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: DRILL_ENV.STATE_MACHINE_ARN,
          name: 'ok',
          input: JSON.stringify({ big: 'x'.repeat(262_144) }),
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    expect(sfn.executions.size).toBe(0);
  });

  it('DescribeExecution answers as AWS does: RUNNING, then how it ended; ExecutionDoesNotExist for an unknown ARN', async () => {
    const sfn = machine();
    // An input no step accepts: the execution fails at its first state, with no AWS call.
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: DRILL_ENV.STATE_MACHINE_ARN, name: 'broken', input: '{}' }),
    );
    const arn = started['executionArn'] as string;
    expect(await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).toMatchObject({
      executionArn: arn,
      name: 'broken',
      status: 'RUNNING',
      stateMachineArn: DRILL_ENV.STATE_MACHINE_ARN,
    });
    await sfn.executions.get('broken')!.done;
    const ended = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(ended).toMatchObject({ status: 'FAILED', stopDate: expect.any(Date) as Date });
    const missing = sfn.send(new DescribeExecutionCommand({ executionArn: `${arn}-not-started` }));
    await expect(missing).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(missing).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
  });

  it('a token that is not waiting cannot be used (TaskTimedOut)', async () => {
    await expect(machine().send(new SendTaskSuccessCommand({ taskToken: 'drill-token-unknown', output: '{}' }))).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
  });
});

describe('the simulated clock', () => {
  it('wakes sleepers in time order, only when nothing else runs, and never waits for real', async () => {
    const clock = new SimClock(0);
    const order: string[] = [];
    const started = Date.now();
    await Promise.all([
      clock.sleep(3_600_000).then(() => order.push(`b ${clock.nowMs()}`)),
      clock.sleep(60_000).then(() => order.push(`a ${clock.nowMs()}`)),
      (async () => {
        // Real work in flight holds the clock still.
        await clock.track(new Promise((resolve) => setTimeout(resolve, 20)));
        order.push(`io ${clock.nowMs()}`);
      })(),
    ]);
    expect(order).toEqual(['io 0', 'a 60000', 'b 3600000']);
    expect(Date.now() - started).toBeLessThan(10_000);
    clock.stop();
  });

  it('a cancelled wake-up does not move the clock', async () => {
    const clock = new SimClock(0);
    const t = clock.timeout(10_000);
    t.cancel();
    await clock.sleep(5);
    expect(clock.nowMs()).toBe(5);
    clock.stop();
  });

  it('says when nothing can ever move again', async () => {
    const clock = new SimClock(0);
    const stalled = new Promise<string>((resolve) => clock.onStall(() => resolve('stalled')));
    await expect(stalled).resolves.toBe('stalled');
    clock.stop();
  });
});
