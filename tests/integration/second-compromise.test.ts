import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DRILL_ENV, runDrill, type DrillResult } from '#drill/drill';

/**
 * scenarios/second-compromise.json: the first incident ends with an overdue task (needs-attention),
 * and two days after its execution ended root creates an access key in the same account again. The
 * old code attached that event to the never-ending first incident: no execution, no alert. Now it
 * gets an execution and a report of its own, and that report links the first incident.
 */
interface Report {
  incidentId: string;
  accountId: string;
  status: string;
  previousIncidentId: string | null;
  humanTasks: { id: string; status: string }[];
  openItems: string[];
  trigger: { eventName: string; eventTime: string | null };
}

const NOW = new Date('2026-11-30T12:00:00Z');

describe('drill: second-compromise', () => {
  let result: DrillResult;
  const reports = () =>
    result.reports
      .map((r) => JSON.parse(readFileSync(join(r.dir, 'report.json'), 'utf8')) as Report)
      .sort((a, b) => a.incidentId.localeCompare(b.incidentId));
  beforeAll(async () => {
    result = await runDrill({ scenario: 'second-compromise', approve: 'all', now: NOW, out: mkdtempSync(join(tmpdir(), 'second-')) });
  }, 60_000);

  it('the second compromise opens its own incident and execution after the first ended', () => {
    const opened = result.intake.filter((l) => l.outcome === 'opened');
    expect(opened).toHaveLength(2);
    expect(opened.map((l) => l.eventName)).toEqual(['ConsoleLogin', 'CreateAccessKey']);
    expect(result.intake.at(-1)).toMatchObject({ eventName: 'CreateAccessKey', outcome: 'opened' });
    const [first, second] = opened.map((l) => l.incidentId!);
    expect(first).not.toBe(second);
    expect(result.executions.map((e) => [e.name, e.status])).toEqual([
      [first, 'SUCCEEDED'],
      [second, 'SUCCEEDED'],
    ]);
    // The second event happened two days (2,880 minutes) after the first execution ended.
    const firstEnded = result.executions[0]!.events.at(-1)!.timestamp;
    const secondAt = Date.parse(result.intake.at(-1)!.eventTime!);
    expect(Math.round((secondAt - firstEnded) / 60_000)).toBe(2880);
  });

  it('the first incident ended needs-attention with its overdue task; the second report links it', () => {
    const [first, second] = reports();
    expect(first).toMatchObject({ status: 'needs-attention', previousIncidentId: null, trigger: { eventName: 'ConsoleLogin' } });
    expect(first!.humanTasks.find((t) => t.id === 'contact-aws-support')?.status).toBe('overdue');
    expect(first!.openItems.some((o) => /overdue/.test(o))).toBe(true);
    expect(second).toMatchObject({
      accountId: first!.accountId,
      previousIncidentId: first!.incidentId,
      trigger: { eventName: 'CreateAccessKey' },
    });
    expect(second!.status).not.toBe('open');
    const dir = result.reports.find((r) => r.incidentId === second!.incidentId)!.dir;
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain(`It follows incident \`${first!.incidentId}\``);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('id="previous-incident"');
    expect(
      readdirSync(result.outDir)
        .filter((d) => d.startsWith(first!.accountId))
        .sort(),
    ).toEqual([first!.incidentId, second!.incidentId]);
  });

  it('each incident alerted and reported: two intake alerts, two report emails', () => {
    const alerts = result.outbox.filter((m) => m.topicArn === DRILL_ENV.ALERT_TOPIC_ARN && /root activity in account/.test(m.subject));
    expect(alerts).toHaveLength(2);
    const reported = result.outbox.filter(
      (m) => m.topicArn === DRILL_ENV.RESPONDERS_TOPIC_ARN && m.subject.startsWith('[root-responder] Report:'),
    );
    expect(reported.map((m) => m.subject)).toEqual(
      reports().map((r) => `[root-responder] Report: incident ${r.incidentId} is ${r.status}`),
    );
    expect(reported[1]!.body).toContain(`It follows incident ${reports()[0]!.incidentId} in the same account.`);
  });
});
