import { assess } from '#functions/assess-incident/assess-incident';
import { buildReport, NOTHING_STORED } from '#functions/write-incident-report/write-incident-report';
import { classifyWindow, type WindowEvent } from '#shared/findings';
import type { JsonObject } from '#shared/cloudtrail';
import { defaultTriageContext, triage } from '#shared/triage';
import type { AssessInput, WorkflowState } from '#shared/contracts/workflow-state';
import { containment, evidenceCollection, rootSnapshot } from '../helpers-state';
import { fixture } from '../helpers';

/**
 * "Was this you?" is about the sign-in only: asked only when nothing else in the incident is high or
 * critical, it lists every finding, and a confirmation closes the sign-in finding alone.
 */
const KNOWN = ['255.253.125.0/24'];
const signIn = fixture<JsonObject>('cloudtrail/signin/flaws_usiem__console_login_success_root.json');
const afterSignIn = fixture<JsonObject[]>('written/root_known_ip_mfa_then_admin_user_stoplogging__written.json');

function state(): AssessInput {
  const t = triage(signIn, defaultTriageContext(KNOWN));
  return {
    incidentId: '811596193553-20170218T192048Z-aaaaaaaaaa',
    accountId: '811596193553',
    region: 'us-east-1',
    openedAt: '2017-02-18T19:20:48.000Z',
    source: 'cloudtrail',
    unparsed: false,
    trigger: t,
    settings: { approvalWaitSeconds: 3600, maxReminders: 3 },
    snapshot: { Payload: rootSnapshot({ root: { accessKeysPresent: false, mfaEnabled: true, mfaDevices: [] } }) },
    containAndCollect: { Payload: { containment: containment({ detail: '' }), evidence: evidenceCollection() } },
  };
}

const collected = (records: JsonObject[]) =>
  classifyWindow(
    records.map((record): WindowEvent => ({ region: 'us-east-1', record, query: 'root' })),
    defaultTriageContext(KNOWN),
  );

describe('the "was this you?" gate', () => {
  it('a known-network MFA sign-in alone is asked about, and a confirmation closes it', () => {
    const a = assess(state(), collected([signIn]));
    expect(a.severity).toBe('high');
    expect(a.plan.askWasItYou).toBe(true);
    expect(a.plan.closesOnConfirmation).toBe(true);
  });

  it('the same sign-in followed by an admin IAM user and StopLogging is never asked about', () => {
    const a = assess(state(), collected([signIn, ...afterSignIn]));
    expect(a.findings.filter((f) => f.severity === 'critical').map((f) => f.id)).toEqual(
      expect.arrayContaining(['iam-user-svc-backup-admin', 'logging-stoplogging-org-trail-us-east-1']),
    );
    expect(a.plan.askWasItYou).toBe(false);
    expect(a.plan.gate).toEqual([]);
    expect(a.plan.closesOnConfirmation).toBe(false);
    expect(a.plan.tasks.map((t) => t.id)).toEqual(
      expect.arrayContaining(['quarantine-iam-user-svc-backup-admin', 'restart-trail-org-trail-us-east-1']),
    );
  });

  it('with findings below high it is asked, lists every finding on the page, and confirming leaves the rest open', () => {
    const read = {
      ...afterSignIn[0]!,
      eventID: 'read-1',
      eventName: 'ListUsers',
      readOnly: true,
      requestParameters: null,
      responseElements: null,
    };
    const a = assess(state(), collected([signIn, read]));
    expect(a.plan.askWasItYou).toBe(true);
    expect(a.plan.closesOnConfirmation).toBe(false);
    const page = a.plan.gate[0]!.why.join('\n');
    for (const f of a.findings) expect(page).toContain(`[${f.severity}] ${f.title}`);
    expect(page).toContain('(the sign-in you are asked about)');
    expect(a.plan.gate[0]!.verification).toMatch(/closes the sign-in finding only: the 1 other finding\(s\) keep the incident going/);
  });

  it('a confirmation with other findings is not expected use: the report keeps the tasks and their open items', () => {
    const a = assess(state(), collected([signIn, ...afterSignIn]));
    const summary = {
      step: 'assess-incident' as const,
      status: 'done' as const,
      severity: a.severity,
      steps: a.steps,
      counts: { findings: a.findings.length, remediations: a.remediations.length, tasks: a.plan.tasks.length },
      evidence: null,
      stored: {
        location: 'mem://',
        manifestSha256: 'x',
        manifestVersionId: null,
        files: 2,
        keys: { findings: 'findings.json' as const, plan: 'plan.json' as const },
      },
      // As if the gate had been asked (an insider and an honest colleague confirm the sign-in).
      plan: {
        askWasItYou: true,
        closesOnConfirmation: a.plan.closesOnConfirmation,
        gate: [{ id: 'confirm-expected-sign-in', kind: 'gate' as const }],
        tasks: [],
      },
    };
    const s: WorkflowState = {
      ...state(),
      assessment: { Payload: summary },
      gate: [{ confirmed: true, decision: { decision: 'approved', decidedBy: 'insider', decidedAt: '2017-02-18T19:40:00Z', via: 'test' } }],
      humanTasks: [{ taskId: 'quarantine-iam-user-svc-backup-admin', kind: 'remediation', status: 'overdue', reminders: 3 }],
    };
    const report = buildReport(s, { ...NOTHING_STORED, findings: a.findings }, new Date('2017-02-18T20:00:00Z'));
    expect(report.status).not.toBe('expected-use');
    expect(report.status).toBe('needs-attention');
    expect(report.humanTasks.map((t) => [t.id, t.status])).toEqual([
      ['confirm-expected-sign-in', 'done'],
      ['quarantine-iam-user-svc-backup-admin', 'overdue'],
    ]);
  });
});
