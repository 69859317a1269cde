import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '#shared/clock';
import { IncidentStore } from '#shared/incident-store';
import { memoryLog } from '#shared/logger';
import type { ExecutionInput, TaskItemState, WorkflowState } from '#shared/schemas';
import { defaultTriageContext, triage } from '#shared/triage';
import { assessIncident } from '#functions/assess-incident/assess-incident';
import { notifyResponders } from '#functions/notify-responders/notify-responders';
import { reportFailure } from '#functions/report-failure/report-failure';
import { sendReminder } from '#functions/send-reminder/send-reminder';
import { buildReport, writeIncidentReport } from '#functions/write-incident-report/write-incident-report';
import { SimulatedDynamoDb } from '#local/simulated-dynamodb';
import { fixture } from '../helpers';

const snsMock = mockClient(SNSClient);
const clock = fixedClock('2024-03-04T12:00:00Z');

function incident(record = fixture('cloudtrail/signin/panther__aws_console_root_login__t0__successful_root_login.json'), cidrs: string[] = []): ExecutionInput {
  const t = triage(record, defaultTriageContext(cidrs));
  return {
    incidentId: '123456789012-20190101T000000Z-aaaaaaaaaa',
    accountId: '123456789012',
    region: 'us-east-1',
    openedAt: '2019-01-01T00:00:00.000Z',
    source: 'cloudtrail',
    unparsed: false,
    trigger: t,
    settings: { approvalWaitSeconds: 3600, maxReminders: 3 },
  };
}

const notImplemented = { Payload: { step: 'x', status: 'not-implemented', detail: 'later' } };
const done = { Payload: { step: 'x', status: 'done', detail: '' } };
const snapshotDone = { Payload: { step: 'snapshot-root-credentials', status: 'done', detail: 'ok', takenAt: '2024-03-04T12:00:00Z', root: { accessKeysPresent: false, mfaEnabled: true, mfaDevices: [] }, notVisible: [] } };
const evidenceDone = { step: 'collect-evidence', status: 'done', detail: 'ok', findings: [], remediations: [], signIns: [], window: { end: '2024-03-04T12:00:00Z' }, evidence: { location: 'mem://', manifestSha256: 'abc', files: 3 } };

/** An ObjectWriter that keeps what is written. */
function memoryWriter() {
  const files = new Map<string, string>();
  return { files, location: 'mem://incident/', write: async (path: string, body: Buffer) => void files.set(path, body.toString('utf8')) };
}

beforeEach(() => {
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
});

describe('assess incident', () => {
  it('plans only the tasks that apply: no "delete keys" when containment did it, no MFA task when the snapshot ran', async () => {
    const state = { ...incident(), snapshot: snapshotDone, containAndCollect: { Payload: { containment: done.Payload, evidence: evidenceDone } } } as WorkflowState;
    const a = await assessIncident(state);
    const ids = a.plan.tasks.map((t) => t.Payload.input.task.id);
    expect(ids).not.toContain('delete-root-access-keys');
    expect(ids).not.toContain('enable-root-mfa');
    expect(ids).toEqual(['change-root-password', 'secure-root-mailbox', 'review-billing-and-organization', 'store-root-credentials-safely', 'contact-aws-support']);
  });

  it('turns unbuilt or failed automatic steps into human tasks, saying why', async () => {
    const state = { ...incident(), snapshot: notImplemented, containAndCollect: { Payload: { containment: { step: 'c', status: 'failed', error: { Error: 'AccessDenied' } }, evidence: notImplemented.Payload } } } as WorkflowState;
    const a = await assessIncident(state);
    expect(a.steps).toMatchObject({ snapshot: { status: 'not-implemented' }, containment: { status: 'failed' }, evidence: { status: 'not-implemented' } });
    const keys = a.plan.tasks.find((t) => t.Payload.input.task.id === 'delete-root-access-keys')!;
    expect(keys.Payload.input.task.why[0]).toBe('Automatic containment did not delete them (failed).');
    expect(a.plan.tasks.map((t) => t.Payload.input.task.id)).toContain('enable-root-mfa');
  });

  it('builds Map items in the shape whose paths hold on AWS and locally', async () => {
    const a = await assessIncident({ ...incident() } as WorkflowState);
    const item = a.plan.tasks[0]!;
    expect(item).toEqual({ Payload: { input: expect.objectContaining({ incidentId: '123456789012-20190101T000000Z-aaaaaaaaaa', waitSeconds: 3600, reminders: 0, maxReminders: 3, severity: 'critical' }) } });
    expect(a.plan.askWasItYou).toBe(false);
    expect(a.plan.gate).toEqual([]);
  });

  it('asks "was this you?" only for an MFA sign-in from a known network', async () => {
    const record = fixture('cloudtrail/signin/flaws_usiem__console_login_success_root.json');
    const known = await assessIncident({ ...incident(record, [`${String(record['sourceIPAddress'])}/32`]) } as WorkflowState);
    expect(known.plan.askWasItYou).toBe(true);
    expect(known.plan.gate[0]!.Payload.input.task).toMatchObject({ id: 'confirm-expected-sign-in', kind: 'gate' });
    const unknown = await assessIncident({ ...incident(record) } as WorkflowState);
    expect(unknown.plan.askWasItYou).toBe(false);
  });
});

describe('notify responders', () => {
  it('says what happened, what ran automatically (honestly), and what people must do', async () => {
    const state = { ...incident(), snapshot: notImplemented } as WorkflowState;
    const assessment = await assessIncident(state);
    const out = await notifyResponders({ ...state, assessment: { Payload: assessment } } as WorkflowState, { sns: new SNSClient({}), respondersTopicArn: 'arn:aws:sns:us-east-1:1:r' });
    expect(out).toMatchObject({ status: 'done', tasks: assessment.plan.tasks.length });
    const body = snsMock.commandCalls(PublishCommand)[0]!.args[0].input.Message!;
    expect(body).toContain('- snapshot: not-implemented (later)');
    expect(body).toContain('- Change the root password');
    expect(body).toMatch(/^What happened: Root signed in/);
  });
});

describe('send reminder', () => {
  const item = (extra: Partial<TaskItemState> = {}): TaskItemState => ({
    Payload: { input: { incidentId: 'i', accountId: 'a', severity: 'high', task: { id: 't', kind: 'console', title: 'T', why: [], steps: [], verification: 'v' }, waitSeconds: 60, reminders: 1, maxReminders: 3 } },
    ...extra,
  });

  it('counts the reminder and says it timed out', async () => {
    const out = await sendReminder(item({ timeout: { Error: 'States.Timeout' } }), { log: memoryLog() });
    expect(out.input).toMatchObject({ reminders: 2, reason: 'No decision within 60 seconds.' });
  });

  it('reopens a "done" that did not verify, with the reason', async () => {
    const out = await sendReminder(item({ verification: { Payload: { verified: false, reason: 'AccountAccessKeysPresent is 1' } } }), { log: memoryLog() });
    expect(out.input.reason).toBe('Marked done, but verification did not confirm it: AccountAccessKeysPresent is 1. The task is open again.');
  });
});

describe('incident report', () => {
  it('is resolved only when every step ran and every task is done and verified', () => {
    const verifiedTask = { taskId: 't', title: 'T', status: 'done', decision: { decidedBy: 'a', decidedAt: 'x' }, verification: { verified: true } };
    const base = { ...incident(), snapshot: snapshotDone, containAndCollect: { Payload: { containment: done.Payload, evidence: evidenceDone } }, verification: done } as WorkflowState;
    const withAssessment = async (extra: Record<string, unknown>) => buildReport({ ...base, assessment: { Payload: await assessIncident(base) }, ...extra } as WorkflowState, clock.now());
    return Promise.all([
      withAssessment({ humanTasks: [verifiedTask] }).then((r) => expect(r).toMatchObject({ status: 'resolved', openItems: [] })),
      // No API can check it: the responder's decision stands.
      withAssessment({ humanTasks: [{ ...verifiedTask, verification: { verified: null } }] }).then((r) => expect(r).toMatchObject({ status: 'resolved', openItems: [] })),
      withAssessment({ humanTasks: [{ ...verifiedTask, verification: { verified: false } }] }).then((r) => expect(r).toMatchObject({ status: 'open', openItems: ['T: done, not verified'] })),
      withAssessment({ humanTasks: [{ ...verifiedTask, kind: 'remediation', action: { status: 'not-implemented' } }] }).then((r) => expect(r.openItems).toEqual(['T: approved, but the remediation did not run (not-implemented)'])),
      withAssessment({ humanTasks: [{ ...verifiedTask, status: 'overdue' }] }).then((r) => expect(r.status).toBe('open')),
      withAssessment({ humanTasks: [verifiedTask], verification: notImplemented }).then((r) => expect(r.openItems).toEqual(['verify-incident: not-implemented (later)'])),
    ]);
  });

  it('an expected-use confirmation closes the incident; an open report leaves it open', async () => {
    const ddb = new SimulatedDynamoDb();
    const store = new IncidentStore(ddb as never, 'incidents');
    const input = incident();
    await store.openOrAttach(input, { key: 'k', eventId: 'e', eventName: 'ConsoleLogin', eventTime: null, severity: 'critical', startsIncident: true, sourceIPAddress: null, receivedAt: 'x' });
    const writer = memoryWriter();
    const deps = { store, sns: new SNSClient({}), respondersTopicArn: 'arn:aws:sns:us-east-1:1:r', clock, writer, mode: 'standalone' as const, responderAccountId: '123456789012' };

    const open = await writeIncidentReport({ ...input, assessment: { Payload: await assessIncident(input as WorkflowState) }, humanTasks: [] } as WorkflowState, deps);
    expect(open.incidentStatus).toBe('open');
    expect(await store.openIncident(input.accountId)).toBeDefined();
    expect(open.stored).toEqual({ location: 'mem://incident/', files: ['report.json', 'report.md', 'report.html'] });
    expect(JSON.parse(writer.files.get('report.json')!)).toMatchObject({ incidentId: input.incidentId, status: 'open', evidence: { status: 'unknown' } });
    expect(writer.files.get('report.md')).toContain('root can switch it off');

    const confirmed = await writeIncidentReport({ ...input, assessment: { Payload: await assessIncident(input as WorkflowState) }, gate: [{ confirmed: true, decision: { decidedBy: 'alice', decidedAt: 't' } }] } as WorkflowState, deps);
    expect(confirmed.incidentStatus).toBe('expected-use');
    expect(JSON.parse(writer.files.get('report.json')!).humanTasks).toEqual([{ id: 'confirm-expected-sign-in', title: 'Was this root sign-in one of you?', status: 'done', decidedBy: 'alice', decidedAt: 't', verified: null }]);
    expect(await store.openIncident(input.accountId)).toBeUndefined();
    expect(await store.status(input.incidentId)).toBe('expected-use');
  });
});

describe('report failure', () => {
  it('tells what ran and what did not, and marks the incident failed', async () => {
    const ddb = new SimulatedDynamoDb();
    const store = new IncidentStore(ddb as never, 'incidents');
    const input = incident();
    await store.openOrAttach(input, { key: 'k', eventId: 'e', eventName: 'ConsoleLogin', eventTime: null, severity: 'critical', startsIncident: true, sourceIPAddress: null, receivedAt: 'x' });
    const out = await reportFailure({ ...input, snapshot: done, containAndCollect: {}, failure: { Error: 'NotificationError', Cause: 'AuthorizationError' } } as WorkflowState, { store, sns: new SNSClient({}), alertTopicArn: 'arn:aws:sns:us-east-1:1:a', clock });
    expect(out).toMatchObject({ incidentStatus: 'failed', error: 'NotificationError', ran: ['Snapshot Root Credentials', 'Contain And Collect Evidence'] });
    expect(out.notRun[0]).toBe('Assess Incident');
    expect(await store.status(input.incidentId)).toBe('failed');
    expect(snsMock.commandCalls(PublishCommand)[0]!.args[0].input.Subject).toBe(`[root-responder] FAILED: response to incident ${input.incidentId}`);
  });
});

describe('assess incident: root credentials and MFA', () => {
  const auditSnapshot = (root: Record<string, unknown>, unexpected: string[] = []) => ({
    Payload: { step: 'snapshot-root-credentials', status: 'done', method: 'assume-root-audit', detail: 'audit', takenAt: 't', notVisible: [], unexpectedMfaDevices: unexpected, root },
  });

  it('a member account whose root credentials were removed is the good state: no "MFA off", no password or MFA task', async () => {
    const state = { ...incident(), snapshot: auditSnapshot({ accessKeysPresent: false, signingCertificatesPresent: false, passwordPresent: false, mfaEnabled: false, mfaDevices: [] }) } as WorkflowState;
    const a = await assessIncident(state);
    expect(a.findings.map((f) => f.id)).toContain('root-credentials-removed');
    expect(a.findings.map((f) => f.id)).not.toContain('root-mfa-off');
    const ids = a.plan.tasks.map((t) => t.Payload.input.task.id);
    expect(ids).not.toContain('enable-root-mfa');
    expect(ids).not.toContain('change-root-password');
    expect(ids).toContain('secure-root-mailbox');
  });

  it('an MFA device nobody registered is critical and asks for the MFA task; a member account gets the SCP cut-off proposal', async () => {
    const state = { ...incident(), snapshot: auditSnapshot({ accessKeysPresent: false, signingCertificatesPresent: false, passwordPresent: true, mfaEnabled: true, mfaDevices: [{ SerialNumber: 'arn:aws:iam::1:mfa/x', kind: 'virtual' }] }, ['arn:aws:iam::1:mfa/x']) } as WorkflowState;
    const a = await assessIncident(state);
    expect(a.findings.find((f) => f.category === 'mfa-change')).toMatchObject({ severity: 'critical', title: 'Root MFA device arn:aws:iam::1:mfa/x is not one of the expected devices' });
    expect(a.plan.tasks.map((t) => t.Payload.input.task.id)).toContain('enable-root-mfa');
    expect(a.remediations.map((r) => r.action)).toEqual(['deactivate-root-mfa-device', 'delete-root-password', 'attach-deny-root-scp']);
    expect(a.plan.tasks.find((t) => t.Payload.input.task.id === 'attach-deny-root-scp')!.Payload.input.task.kind).toBe('remediation');
  });

  it('says how to enable centralized root access when containment found it off', async () => {
    const state = { ...incident(), containAndCollect: { Payload: { containment: { step: 'contain-root-credentials', status: 'skipped', detail: 'x', blockedBy: 'centralized root access: RootSessions not enabled for the organization' }, evidence: notImplemented.Payload } } } as WorkflowState;
    const a = await assessIncident(state);
    expect(a.findings.find((f) => f.id === 'centralized-root-access-off')!.detail).toMatch(/IAM > Root access management > Enable/);
  });
});

describe('report rendering escapes what events carry', () => {
  it('a script payload in an event field is text in report.html and report.md', async () => {
    const { renderHtml } = await import('#functions/write-incident-report/render-html');
    const { renderMarkdown } = await import('#functions/write-incident-report/render-markdown');
    const input = incident({ ...fixture('cloudtrail/signin/panther__aws_console_root_login__t0__successful_root_login.json'), sourceIPAddress: '<img src=x onerror=alert(1)>' });
    const state = { ...input, assessment: { Payload: await assessIncident(input as WorkflowState) }, humanTasks: [] } as WorkflowState;
    const report = buildReport(state, clock.now());
    report.findings.push({ id: 'x', category: 'resource-change', severity: 'high', title: '<script>alert("x")</script>', detail: '"><svg onload=alert(1)>', evidence: ['</code><script>'] });
    const html = renderHtml(report);
    expect(html).not.toMatch(/<script|<img|<svg/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    const md = renderMarkdown(report);
    expect(md).not.toMatch(/<script|<img|<svg/i);
  });
});
