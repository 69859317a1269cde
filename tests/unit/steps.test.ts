import { expect } from '@jest/globals';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import MarkdownIt from 'markdown-it';
import { fixedClock } from '#shared/clock';
import { EvidenceBundle, type ObjectReader, type ObjectWriter } from '#shared/evidence';
import { IncidentStore } from '#shared/incident-store';
import { memoryLog } from '#shared/logger';
import type { AssessmentSummary } from '#shared/contracts/assessment';
import type { RootSnapshot } from '#shared/contracts/snapshot';
import type { ExecutionInput } from '#shared/contracts/execution-input';
import type { TaskItemState } from '#shared/contracts/task-item';
import type { TaskOutcome } from '#shared/contracts/task-outcome';
import type { AssessInput, ReportInput, WorkflowState } from '#shared/contracts/workflow-state';
import { defaultTriageContext, triage } from '#shared/triage';
import { assess, assessIncident } from '#functions/assess-incident/assess-incident';
import { notifyResponders } from '#functions/notify-responders/notify-responders';
import { reportFailure } from '#functions/report-failure/report-failure';
import { sendReminder } from '#functions/send-reminder/send-reminder';
import {
  buildReport,
  type IncidentReport,
  readReportInputs,
  writeIncidentReport,
} from '#functions/write-incident-report/write-incident-report';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { fixture } from '../helpers';
import { containment, evidenceCollection, notImplemented, rootSnapshot, taskVerification, verification } from '../helpers-state';

const snsMock = mockClient(SNSClient);
const clock = fixedClock('2024-03-04T12:00:00Z');

function incident(
  record = fixture('cloudtrail/signin/panther__aws_console_root_login__t0__successful_root_login.json'),
  cidrs: string[] = [],
): ExecutionInput {
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

const snapshotDone = {
  Payload: rootSnapshot({ takenAt: '2024-03-04T12:00:00Z', root: { accessKeysPresent: false, mfaEnabled: true, mfaDevices: [] } }),
};
const evidenceDone = evidenceCollection({
  window: { contextStart: '2024-02-26T12:00:00Z', incidentStart: '2019-01-01T00:00:00.000Z', end: '2024-03-04T12:00:00Z' },
});
const containmentDone = containment({ detail: '' });
const verificationDone = { Payload: verification() };

/** An incident's folder in memory: what the steps write under incidents/<id>/, read back by later steps. */
function memoryFolder() {
  const files = new Map<string, string>();
  const writer = (prefix = ''): ObjectWriter => ({
    location: `mem://incident/${prefix}`,
    write: (path, body) => Promise.resolve(void files.set(`${prefix}${path}`, body.toString('utf8'))),
  });
  const reader = (prefix = ''): ObjectReader => ({
    read: (path) => {
      const body = files.get(`${prefix}${path}`);
      if (body === undefined) return Promise.reject(Object.assign(new Error(`${prefix}${path} not found`), { name: 'NoSuchKey' }));
      return Promise.resolve(Buffer.from(body));
    },
  });
  // What a collection that found nothing leaves in its bundle (beside evidenceDone).
  files.set('evidence/findings.json', JSON.stringify({ findings: [], remediations: [] }));
  files.set('evidence/sign-ins.json', '[]');
  // ... and a verification that found nothing late.
  files.set('verification/late-findings.json', '[]');
  return { files, writer, reader };
}

/** Assess Incident as the workflow runs it: the summary goes into the state, findings.json and plan.json into the folder. */
async function assessed(
  state: AssessInput,
  folder = memoryFolder(),
): Promise<{ summary: AssessmentSummary; folder: ReturnType<typeof memoryFolder>; state: WorkflowState }> {
  const summary = await assessIncident(state, {
    evidence: folder.reader('evidence/'),
    bundle: new EvidenceBundle(folder.writer('assessment/')),
  });
  return { summary, folder, state: { ...state, assessment: { Payload: summary } } };
}

beforeEach(() => {
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
});

describe('assess incident', () => {
  it('plans only the tasks that apply: no "delete keys" when containment did it, no MFA task when the snapshot ran', () => {
    const state: AssessInput = {
      ...incident(),
      snapshot: snapshotDone,
      containAndCollect: { Payload: { containment: containmentDone, evidence: evidenceDone } },
    };
    const a = assess(state);
    const ids = a.plan.tasks.map((t) => t.id);
    expect(ids).not.toContain('delete-root-access-keys');
    expect(ids).not.toContain('enable-root-mfa');
    expect(ids).toEqual([
      'change-root-password',
      'secure-root-mailbox',
      'review-billing-and-organization',
      'store-root-credentials-safely',
      'contact-aws-support',
    ]);
  });

  it('turns unbuilt or failed automatic steps into human tasks, saying why', () => {
    const state: AssessInput = {
      ...incident(),
      snapshot: { Payload: notImplemented('snapshot-root-credentials') },
      containAndCollect: {
        Payload: {
          containment: { step: 'contain-root-credentials', status: 'failed', error: { Error: 'AccessDenied' } },
          evidence: notImplemented('collect-evidence'),
        },
      },
    };
    const a = assess(state);
    expect(a.steps).toMatchObject({
      snapshot: { status: 'not-implemented' },
      containment: { status: 'failed' },
      evidence: { status: 'not-implemented' },
    });
    const keys = a.plan.tasks.find((t) => t.id === 'delete-root-access-keys')!;
    expect(keys.why[0]).toBe('Automatic containment did not delete them (failed).');
    expect(a.plan.tasks.map((t) => t.id)).toContain('enable-root-mfa');
  });

  // The Map items built from these refs (ItemSelector): tests/statemachines/root-compromise-response.test.ts.
  it("keeps the state small: the plan's tasks are their ids and kinds, the text is in plan.json, the findings in findings.json", async () => {
    const { summary: a, folder } = await assessed(incident());
    expect(a.plan.askWasItYou).toBe(false);
    expect(a.plan.gate).toEqual([]);
    const plan = JSON.parse(folder.files.get('assessment/plan.json')!) as { tasks: { id: string; title: string; why: string[] }[] };
    expect(a.plan.tasks).toEqual(plan.tasks.map((t) => ({ id: t.id, kind: 'console' })));
    expect(plan.tasks.find((t) => t.id === 'change-root-password')).toMatchObject({
      title: 'Change the root password',
      why: expect.arrayContaining(['Whoever used root may know the password.']),
    });
    const stored = JSON.parse(folder.files.get('assessment/findings.json')!) as { findings: { id: string }[] };
    expect(a.counts).toEqual({ findings: stored.findings.length, remediations: 0, tasks: a.plan.tasks.length });
    expect(stored.findings.map((f) => f.id)).toContain('trigger');
    expect(a.stored).toMatchObject({
      location: 'mem://incident/assessment/',
      files: 2,
      keys: { findings: 'findings.json', plan: 'plan.json' },
    });
    expect(JSON.stringify(a)).not.toContain('Whoever used root may know the password.');
  });

  it("reads the collected findings from the evidence bundle, capping each one's event ids as the report shows them", async () => {
    const folder = memoryFolder();
    const evidence = Array.from({ length: 130 }, (_, i) => `e-${i}`);
    folder.files.set(
      'evidence/findings.json',
      JSON.stringify({
        findings: [
          {
            id: 'read-only-calls',
            category: 'read-only',
            severity: 'medium',
            title: 'Root made 130 read-only calls',
            detail: 'd',
            evidence,
          },
        ],
        remediations: [
          {
            id: 'quarantine-iam-user-x',
            action: 'quarantine-iam-user',
            target: 'x',
            region: 'us-east-1',
            undo: 'Quarantine IAM user x.',
            evidence: ['e-1'],
          },
        ],
      }),
    );
    const state: AssessInput = {
      ...incident(),
      snapshot: snapshotDone,
      containAndCollect: { Payload: { containment: containmentDone, evidence: evidenceDone } },
    };
    const { summary } = await assessed(state, folder);
    const stored = JSON.parse(folder.files.get('assessment/findings.json')!) as {
      findings: { id: string; evidence: string[]; evidenceTotal?: number }[];
      remediations: { id: string }[];
    };
    expect(stored.findings.find((f) => f.id === 'read-only-calls')).toMatchObject({ evidence: evidence.slice(0, 100), evidenceTotal: 130 });
    expect(stored.remediations.map((r) => r.id)).toEqual(['quarantine-iam-user-x']);
    expect(summary.plan.tasks.find((t) => t.kind === 'remediation')).toEqual({
      id: 'quarantine-iam-user-x',
      kind: 'remediation',
      remediation: { action: 'quarantine-iam-user', target: 'x', region: 'us-east-1' },
    });
    // A collection that says it is done but whose findings cannot be read fails the step, typed.
    folder.files.delete('evidence/findings.json');
    await expect(assessed(state, folder)).rejects.toMatchObject({ name: 'EvidenceReadError' });
  });

  it('asks "was this you?" only for an MFA sign-in from a known network', async () => {
    const record = fixture('cloudtrail/signin/flaws_usiem__console_login_success_root.json');
    const known = (await assessed(incident(record, [`${String(record['sourceIPAddress'])}/32`]))).summary;
    expect(known.plan.askWasItYou).toBe(true);
    expect(known.plan.gate).toEqual([{ id: 'confirm-expected-sign-in', kind: 'gate' }]);
    const unknown = (await assessed(incident(record))).summary;
    expect(unknown.plan.askWasItYou).toBe(false);
  });
});

describe('notify responders', () => {
  it('says what happened, what ran automatically (honestly), and what people must do', async () => {
    const {
      summary: assessment,
      folder,
      state,
    } = await assessed({ ...incident(), snapshot: { Payload: notImplemented('snapshot-root-credentials') } });
    // What the ASL's Parameters pick from the state for this step.
    const input = {
      incidentId: state.incidentId,
      accountId: state.accountId,
      region: state.region,
      trigger: state.trigger,
      severity: assessment.severity,
      steps: assessment.steps,
      tasks: assessment.counts.tasks,
      evidence: assessment.evidence,
    };
    const out = await notifyResponders(input, {
      sns: new SNSClient({}),
      respondersTopicArn: 'arn:aws:sns:us-east-1:1:r',
      assessment: folder.reader('assessment/'),
    });
    expect(out).toMatchObject({ status: 'done', tasks: assessment.plan.tasks.length });
    const body = snsMock.commandCalls(PublishCommand)[0]!.args[0].input.Message!;
    expect(body).toContain('- snapshot: not-implemented (later)');
    expect(body).toContain('- Change the root password');
    expect(body).toMatch(/^What happened: Root signed in/);
  });
});

describe('send reminder', () => {
  const item = (extra: Partial<TaskItemState> = {}): TaskItemState => ({
    Payload: {
      input: {
        incidentId: 'i',
        accountId: 'a',
        severity: 'high',
        task: { id: 't', kind: 'console' },
        waitSeconds: 60,
        reminders: 1,
        maxReminders: 3,
      },
    },
    ...extra,
  });

  it('counts the reminder and says it timed out', async () => {
    const out = await sendReminder(item({ timeout: { Error: 'States.Timeout' } }), { log: memoryLog() });
    expect(out.input).toMatchObject({ reminders: 2, reason: 'No decision within 60 seconds.' });
  });

  it('reopens a "done" that did not verify, with the reason', async () => {
    const out = await sendReminder(
      item({ verification: { Payload: taskVerification('t', { verified: false, reason: 'AccountAccessKeysPresent is 1' }) } }),
      { log: memoryLog() },
    );
    expect(out.input.reason).toBe(
      'Marked done, but verification did not confirm it: AccountAccessKeysPresent is 1. The task is open again.',
    );
  });
});

describe('incident report', () => {
  it('is resolved only when every step ran and every task is done and verified', () => {
    const verifiedTask = {
      taskId: 't',
      kind: 'console',
      status: 'done',
      decision: { decidedBy: 'a', decidedAt: 'x' },
      action: { status: 'skipped', detail: 'A console task: the responder does it; nothing runs here.' },
      verification: { verified: true },
    } satisfies TaskOutcome;
    const base: ReportInput = {
      ...incident(),
      snapshot: snapshotDone,
      containAndCollect: { Payload: { containment: containmentDone, evidence: evidenceDone } },
      verification: verificationDone,
    };
    const withAssessment = async (extra: Partial<ReportInput>) => {
      const { state, folder } = await assessed(base);
      const full: ReportInput = { ...state, ...extra };
      // Task "t" is not in this plan: its title comes with it.
      const stored = await readReportInputs(full, folder.reader());
      return buildReport(full, { ...stored, titles: { ...stored.titles, t: 'T' } }, clock.now());
    };
    return Promise.all([
      withAssessment({ humanTasks: [verifiedTask] }).then((r) => expect(r).toMatchObject({ status: 'resolved', openItems: [] })),
      // No API can check it: the responder's decision stands.
      withAssessment({ humanTasks: [{ ...verifiedTask, verification: { verified: null } }] }).then((r) =>
        expect(r).toMatchObject({ status: 'resolved', openItems: [] }),
      ),
      withAssessment({ humanTasks: [{ ...verifiedTask, verification: { verified: false } }] }).then((r) =>
        expect(r).toMatchObject({ status: 'needs-attention', openItems: ['T: done, not verified'] }),
      ),
      withAssessment({
        humanTasks: [
          { ...verifiedTask, kind: 'remediation', action: { status: 'not-implemented', detail: 'Running "x" is not built yet' } },
        ],
      }).then((r) => expect(r.openItems).toEqual(['T: approved, but the remediation did not run (not-implemented)'])),
      withAssessment({ humanTasks: [{ taskId: 't', kind: 'console', status: 'overdue', reminders: 3 }] }).then((r) =>
        expect(r).toMatchObject({ status: 'needs-attention', openItems: ['T: overdue'] }),
      ),
      withAssessment({ humanTasks: [verifiedTask], verification: { Payload: notImplemented('verify-incident') } }).then((r) =>
        expect(r.openItems).toEqual(['verify-incident: not-implemented (later)']),
      ),
    ]);
  });

  it('every report ends the incident: open items end it as needs-attention (listed) and release the account', async () => {
    const ddb = new SimulatedDynamoDb();
    const store = new IncidentStore(ddb as never, 'incidents');
    const input = incident();
    await store.openOrAttach(input, {
      key: 'k',
      eventId: 'e',
      eventName: 'ConsoleLogin',
      eventTime: null,
      severity: 'critical',
      startsIncident: true,
      sourceIPAddress: null,
      receivedAt: 'x',
    });
    const folder = memoryFolder();
    const writer = { files: { get: (path: string) => folder.files.get(path) }, ...folder.writer() };
    const deps = {
      store,
      sns: new SNSClient({}),
      respondersTopicArn: 'arn:aws:sns:us-east-1:1:r',
      clock,
      writer,
      reader: folder.reader(),
      mode: 'standalone' as const,
      responderAccountId: '123456789012',
    };

    const open = await writeIncidentReport(
      {
        ...(await assessed(input, folder)).state,
        humanTasks: [{ taskId: 'change-root-password', kind: 'console', status: 'overdue', reminders: 3 }],
      },
      deps,
    );
    expect(open.incidentStatus).toBe('needs-attention');
    expect(await store.openIncident(input.accountId)).toBeUndefined();
    expect(await store.meta(input.incidentId)).toMatchObject({
      status: 'needs-attention',
      closedAt: '2024-03-04T12:00:00.000Z',
      closedBy: 'write-incident-report',
      openItems: expect.arrayContaining(['Change the root password: overdue']),
    });
    expect(await store.lastIncident(input.accountId)).toMatchObject({ incidentId: input.incidentId, status: 'needs-attention' });
    expect(open.stored).toEqual({ location: 'mem://incident/', files: ['report.json', 'report.md', 'report.html'] });
    expect(JSON.parse(writer.files.get('report.json')!)).toMatchObject({
      incidentId: input.incidentId,
      status: 'needs-attention',
      previousIncidentId: null,
      evidence: { status: 'unknown' },
    });
    expect(writer.files.get('report.md')).toContain('root can switch it off');

    // The account's next incident (the first one ended): a confirmation ends it as expected use.
    const next = { ...input, incidentId: '123456789012-20190102T000000Z-bbbbbbbbbb' };
    const opened = await store.openOrAttach(next, {
      key: 'k2',
      eventId: 'e2',
      eventName: 'ConsoleLogin',
      eventTime: null,
      severity: 'critical',
      startsIncident: true,
      sourceIPAddress: null,
      receivedAt: 'x',
    });
    if (opened.outcome !== 'opened') throw new Error(`expected a new incident, got ${opened.outcome}`);
    expect(opened.marker.executionInput.previousIncidentId).toBe(input.incidentId);
    // A gate asked about a sign-in with nothing else found (closesOnConfirmation): a confirmation ends it.
    const gated = (await assessed(opened.marker.executionInput, folder)).state;
    const summary = gated.assessment!.Payload;
    const confirmed = await writeIncidentReport(
      {
        ...gated,
        assessment: { Payload: { ...summary, plan: { ...summary.plan, askWasItYou: true, closesOnConfirmation: true } } },
        gate: [{ confirmed: true, decision: { decision: 'approved', decidedBy: 'alice', decidedAt: 't', via: 'drill' } }],
      },
      deps,
    );
    expect(confirmed.incidentStatus).toBe('expected-use');
    expect((JSON.parse(writer.files.get('report.json')!) as IncidentReport).humanTasks).toEqual([
      {
        id: 'confirm-expected-sign-in',
        title: 'Was this root sign-in one of you? (confirmed: the sign-in finding is closed)',
        status: 'done',
        decidedBy: 'alice',
        decidedAt: 't',
        verified: null,
      },
    ]);
    expect(JSON.parse(writer.files.get('report.json')!)).toMatchObject({ previousIncidentId: input.incidentId });
    expect(writer.files.get('report.md')).toContain(`It follows incident \`${input.incidentId}\``);
    expect(await store.openIncident(input.accountId)).toBeUndefined();
    expect(await store.status(next.incidentId)).toBe('expected-use');
    expect(await store.status(input.incidentId)).toBe('needs-attention');
  });
});

describe('report failure', () => {
  it('tells what ran and what did not, and marks the incident failed', async () => {
    const ddb = new SimulatedDynamoDb();
    const store = new IncidentStore(ddb as never, 'incidents');
    const input = incident();
    await store.openOrAttach(input, {
      key: 'k',
      eventId: 'e',
      eventName: 'ConsoleLogin',
      eventTime: null,
      severity: 'critical',
      startsIncident: true,
      sourceIPAddress: null,
      receivedAt: 'x',
    });
    const out = await reportFailure(
      {
        ...input,
        snapshot: snapshotDone,
        containAndCollect: { Payload: { containment: containmentDone, evidence: evidenceDone } },
        failure: { Error: 'NotificationError', Cause: 'AuthorizationError' },
      } satisfies WorkflowState,
      { store, sns: new SNSClient({}), alertTopicArn: 'arn:aws:sns:us-east-1:1:a', clock },
    );
    expect(out).toMatchObject({
      incidentStatus: 'failed',
      error: 'NotificationError',
      ran: ['Snapshot Root Credentials', 'Contain And Collect Evidence'],
    });
    expect(out.notRun[0]).toBe('Assess Incident');
    expect(await store.status(input.incidentId)).toBe('failed');
    expect(snsMock.commandCalls(PublishCommand)[0]!.args[0].input.Subject).toBe(
      `[root-responder] FAILED: response to incident ${input.incidentId}`,
    );
  });
});

describe('assess incident: root credentials and MFA', () => {
  const auditSnapshot = (root: Partial<RootSnapshot['root']>, unexpected: string[] = []) => ({
    Payload: rootSnapshot({
      method: 'assume-root-audit',
      detail: 'audit',
      takenAt: 't',
      unexpectedMfaDevices: unexpected,
      root: { accessKeys: [], signingCertificates: [], ...root },
    }),
  });

  it('a member account whose root credentials were removed is the good state: no "MFA off", no password or MFA task', () => {
    const state: AssessInput = {
      ...incident(),
      snapshot: auditSnapshot({
        accessKeysPresent: false,
        signingCertificatesPresent: false,
        passwordPresent: false,
        mfaEnabled: false,
        mfaDevices: [],
      }),
    };
    const a = assess(state);
    expect(a.findings.map((f) => f.id)).toContain('root-credentials-removed');
    expect(a.findings.map((f) => f.id)).not.toContain('root-mfa-off');
    const ids = a.plan.tasks.map((t) => t.id);
    expect(ids).not.toContain('enable-root-mfa');
    expect(ids).not.toContain('change-root-password');
    expect(ids).toContain('secure-root-mailbox');
  });

  it('an MFA device nobody registered is critical and asks for the MFA task; a member account gets the SCP cut-off proposal', () => {
    const state: AssessInput = {
      ...incident(),
      snapshot: auditSnapshot(
        {
          accessKeysPresent: false,
          signingCertificatesPresent: false,
          passwordPresent: true,
          mfaEnabled: true,
          mfaDevices: [{ SerialNumber: 'arn:aws:iam::1:mfa/x', kind: 'virtual' }],
        },
        ['arn:aws:iam::1:mfa/x'],
      ),
    };
    const a = assess(state);
    expect(a.findings.find((f) => f.category === 'mfa-change')).toMatchObject({
      severity: 'critical',
      title: 'Root MFA device arn:aws:iam::1:mfa/x is not one of the expected devices',
    });
    expect(a.plan.tasks.map((t) => t.id)).toContain('enable-root-mfa');
    expect(a.remediations.map((r) => r.action)).toEqual(['deactivate-root-mfa-device', 'delete-root-password', 'attach-deny-root-scp']);
    expect(a.plan.tasks.find((t) => t.id === 'attach-deny-root-scp')!.kind).toBe('remediation');
  });

  it('says how to enable centralized root access when containment found it off', () => {
    const state: AssessInput = {
      ...incident(),
      containAndCollect: {
        Payload: {
          containment: containment({
            status: 'skipped',
            detail: 'x',
            blockedBy: 'centralized root access: RootSessions not enabled for the organization',
          }),
          evidence: notImplemented('collect-evidence'),
        },
      },
    };
    const a = assess(state);
    expect(a.findings.find((f) => f.id === 'centralized-root-access-off')!.detail).toMatch(/IAM > Root access management > Enable/);
  });
});

describe('report rendering escapes what events carry', () => {
  it('a script payload in an event field is text in report.html and report.md', async () => {
    const { renderHtml } = await import('#functions/write-incident-report/render-html');
    const { renderMarkdown } = await import('#functions/write-incident-report/render-markdown');
    const input = incident({
      ...fixture('cloudtrail/signin/panther__aws_console_root_login__t0__successful_root_login.json'),
      sourceIPAddress: '<img src=x onerror=alert(1)>',
    });
    const { state: assessedState, folder } = await assessed(input);
    const state: ReportInput = { ...assessedState, humanTasks: [] };
    const report = buildReport(state, await readReportInputs(state, folder.reader()), clock.now());
    report.findings.push({
      id: 'x',
      category: 'resource-change',
      severity: 'high',
      title: '<script>alert("x")</script>',
      detail: '"><svg onload=alert(1)>',
      evidence: ['</code><script>'],
    });
    const html = renderHtml(report);
    expect(html).not.toMatch(/<script|<img|<svg/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    // In report.md they stand in code spans: a Markdown viewer shows them as text.
    const md = renderMarkdown(report);
    expect(new MarkdownIt({ html: true, linkify: true }).render(md)).not.toMatch(/<script|<img|<svg/i);
    expect(md).toContain('**high**: `<script>alert("x")</script>`');
  });
});
