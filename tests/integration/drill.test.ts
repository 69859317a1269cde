import { expect } from '@jest/globals';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLocalBundle } from '#shared/evidence';
import { runDrill, DRILL_ENV, type DrillExecution, type DrillResult } from '#drill/drill';
import type { Handler } from '#drill/deployment';
import { evidenceCollectionOf } from '#shared/contracts/evidence-collection';
import { rootSnapshotOf } from '#shared/contracts/snapshot';
import { type WorkflowState, WorkflowStateSchema } from '#shared/contracts/workflow-state';

/** The whole state machine, run locally with every Task bound to its deployed handler. */

/** An execution's output: the final workflow state, which holds to the contracts (functions/shared/contracts/). */
const outputOf = (e: DrillExecution): WorkflowState => WorkflowStateSchema.parse(e.output);

interface Report {
  status: string;
  severity: string;
  findings: { id: string; title: string; category: string; evidence: string[] }[];
  remediations: { action: string; target: string }[];
  actions: { action: string; target: string; status: string }[];
  humanTasks: { id: string; status: string; verified?: boolean | null; decidedBy?: string | null }[];
  openItems: string[];
  evidence: { location: string; manifestSha256: string; files: number };
  timeline: { at: string; state: string; event: string }[];
}

const top = (e: DrillExecution) =>
  e.events.filter((x) => x.type === 'StateEntered' && x.index === undefined && x.state).map((x) => x.state);
const out = () => mkdtempSync(join(tmpdir(), 'drill-'));
const reportOf = (r: DrillResult) => JSON.parse(readFileSync(join(r.outDir, 'report.json'), 'utf8')) as Report;

/**
 * One run of a scenario shared by the tests that each check a different part of the same run
 * (same scenario, same options): the first test to ask runs it, the others read its result.
 */
const runs = new Map<string, Promise<DrillResult>>();
const sharedRun = (key: 'unknown-ip-no-mfa none' | 'member-account all'): Promise<DrillResult> => {
  if (!runs.has(key)) {
    const [scenario, approve] = key.split(' ') as [string, 'all' | 'none'];
    runs.set(key, runDrill({ scenario, approve, out: out() }));
  }
  return runs.get(key)!;
};

function pageEventIds(dir: string): Set<string> {
  const ids = new Set<string>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/page-\d+\.json$/.test(entry.name))
        for (const r of JSON.parse(readFileSync(p, 'utf8')) as { eventID: string }[]) ids.add(r.eventID);
    }
  };
  walk(join(dir, 'evidence', 'cloudtrail'));
  return ids;
}

describe('drill: unknown-ip-no-mfa', () => {
  let result: DrillResult;
  beforeAll(async () => {
    result = await runDrill({ approve: 'all', out: out() });
  });

  it('runs the whole state machine to its end, with every approval given', () => {
    expect(result.intake.map((i) => i.outcome)).toEqual([
      'ignored',
      'ignored',
      'ignored',
      'opened',
      ...Array<string>(7).fill('attached'),
      'ignored',
      'attached',
      'attached',
      'attached',
      // The AMI made public and SSH opened to ::/0 (written from the documented field shapes).
      'attached',
      'attached',
    ]);
    expect(result.executions).toHaveLength(1);
    const [execution] = result.executions;
    expect(execution!.status).toBe('SUCCEEDED');
    expect(top(execution!)).toEqual([
      'Snapshot Root Credentials',
      'Contain And Collect Evidence',
      'Contain Root Credentials',
      'Collect Evidence',
      'Assess Incident',
      'Notify Responders',
      'Confirmation Needed?',
      'Run Human Tasks',
      'Verify Incident',
      'Write Incident Report',
      'Response Finished',
    ]);
    const tasks = outputOf(execution!).humanTasks!;
    expect(tasks.filter((t) => t.kind === 'console')).toHaveLength(7);
    expect(
      tasks
        .filter((t) => t.kind === 'remediation')
        .map((t) => t.taskId)
        .sort(),
    ).toEqual([
      'quarantine-iam-user-tracy-stone',
      'remove-launch-permission-ami-0a1b2c3d4e5f67890',
      'restart-trail-acme-cloudtrail-eu-west-1-eu-west-1',
      'restore-alternate-contact-security',
      'revoke-security-group-ingress-sg-07ebc4087aa0b2a81',
      'stop-instances-i-05261ffb46217cdc3',
    ]);
    expect(tasks.every((t) => t.status === 'done' && t.decision?.decidedBy === 'alice@responders.example')).toBe(true);
  });

  it('names every attacker change as a finding, with event ids that are in the evidence', () => {
    const report = reportOf(result);
    const titles = report.findings.map((f) => f.title);
    for (const expected of [
      /^Root signed in from 92\.55\.146\.245/,
      /^3 failed root sign-ins from 92\.55\.146\.245$/,
      /^Root created an access key for itself \(AKIA5ZZZK44445XXFFVB\)$/,
      /^Root created IAM user `tracy_stone`, an access key for it \(AKIASWJJJ66ZZZII4IYY\), attached AmazonEC2FullAccess, IAMFullAccess, AmazonS3FullAccess$/,
      /^Root MFA device deactivated$/,
      /^SECURITY alternate contact changed$/,
      /^CloudTrail logging stopped in eu-west-1/,
      /^CloudTrail logging stopped in us-east-1 .*attempt failed: NotOrganizationMasterAccountException/,
      /^tracy_stone \(created by root during the incident\) made 1 call$/,
      /^SECURITY alternate contact differs from the baseline$/,
      /^Trail acme-cloudtrail-eu-west-1 \(eu-west-1\) is not logging$/,
      /^Root MFA is off$/,
      /^Root has access keys$/,
    ]) {
      expect({ expected: String(expected), found: titles.some((t) => expected.test(t)) }).toEqual({
        expected: String(expected),
        found: true,
      });
    }
    const inEvidence = pageEventIds(result.outDir);
    const cloudTrailIds = report.findings.flatMap((f) => f.evidence).filter((id) => /^[0-9a-f]{8}-/.test(id));
    expect(cloudTrailIds.length).toBeGreaterThanOrEqual(14);
    for (const id of cloudTrailIds) expect(inEvidence.has(id)).toBe(true);
    expect(report.remediations.map((r) => r.action).sort()).toEqual([
      'quarantine-iam-user',
      'remove-launch-permission',
      'restart-trail',
      'restore-alternate-contact',
      'revoke-security-group-ingress',
      'stop-instances',
    ]);
  });

  it('says what the attacker exposed: the public AMI and SSH open to ::/0, each with its resource, event and undo', () => {
    const report = reportOf(result) as unknown as Omit<Report, 'findings'> & {
      findings: {
        title: string;
        evidence: string[];
        exposure?: { resource: { id: string }; undo: { kind: string }; event: { id: string } };
      }[];
    };
    const exposed = report.findings.filter((f) => f.exposure).map((f) => [f.title, f.exposure!.resource.id, f.exposure!.undo.kind]);
    expect(exposed).toEqual(
      expect.arrayContaining([
        [
          'AMI ami-0a1b2c3d4e5f67890 launch permission granted to everyone (all) in us-east-1',
          'ami-0a1b2c3d4e5f67890',
          'remove-launch-permission',
        ],
        [
          'Security group sg-07ebc4087aa0b2a81 opened on TCP port 22 from ::/0 to everyone (::/0) in us-east-1',
          'sg-07ebc4087aa0b2a81',
          'revoke-security-group-ingress',
        ],
      ]),
    );
    const markdown = readFileSync(join(result.outDir, 'report.md'), 'utf8');
    expect(markdown).toContain('Undo: `remove-launch-permission` (reversible');
    expect(markdown).toContain('Undo: `revoke-security-group-ingress` (reversible');
    // Each undo ran after approval and was re-read by API: the report says so, never "by hand".
    expect(markdown).not.toContain('not built yet');
    for (const kind of ['remove-launch-permission', 'revoke-security-group-ingress', 'stop-instances']) {
      const line = markdown.split('\n').find((l) => l.includes(`Undo: \`${kind}\``)) ?? '';
      expect(line).toContain('(reversible; done: ');
      expect(line).toContain(`by the approved remediation ${kind} on `);
      expect(line).toContain('verified by API');
    }
    // The responders' own root work with --approve all is never an attacker finding.
    expect(report.findings.filter((f) => f.evidence.some((id) => id.startsWith('drill-')))).toEqual([]);
    expect(report.timeline.map((t) => t.event)).toContain(
      'responder activity for task Change the root password: root PasswordUpdated from 203.0.113.10',
    );
  });

  it('keeps the evidence tamper-evident: the manifest matches the files and the report carries its digest', async () => {
    const report = reportOf(result);
    const evidenceDir = join(result.outDir, 'evidence');
    const check = await verifyLocalBundle(evidenceDir);
    expect(check).toEqual({ ok: true, mismatches: [], manifestSha256: report.evidence.manifestSha256 });
    expect(report.evidence.files).toBeGreaterThanOrEqual(15);

    // One byte changed in one file is caught.
    const file = join(evidenceDir, 'account', 'alternate-contacts.json');
    const body = readFileSync(file);
    body[10] = body[10]! ^ 1;
    writeFileSync(file, body);
    const tampered = await verifyLocalBundle(evidenceDir);
    expect(tampered.ok).toBe(false);
    expect(tampered.mismatches).toEqual([{ path: 'account/alternate-contacts.json', problem: 'sha256 differs' }]);
  });

  it('reports honestly what ran and what did not', () => {
    const report = reportOf(result);
    // Every task done and verified (the simulated responders did the console work; the remediations ran,
    // the exposure undos among them): nothing is left open.
    expect(report.openItems).toEqual([]);
    expect(report.status).toBe('resolved');
    const undone = (
      report as unknown as { findings: { exposure?: { undo: { kind: string; status: string } }; resolution?: { by: string } }[] }
    ).findings
      .filter((f) => f.exposure)
      .map((f) => [f.exposure!.undo.kind, f.exposure!.undo.status, f.resolution?.by]);
    expect(undone).toEqual([
      ['remove-launch-permission', 'proposed', 'remediation'],
      ['revoke-security-group-ingress', 'proposed', 'remediation'],
      ['stop-instances', 'proposed', 'remediation'],
    ]);
    expect(
      report.humanTasks.filter((t) => /^(quarantine|restore|restart|remove-launch|revoke-security|stop-instances)/.test(t.id)),
    ).toEqual(Array(6).fill(expect.objectContaining({ status: 'done', verified: true })));
    expect(report.actions.map((a) => [a.action, a.status])).toEqual([
      ['snapshot-root-credentials', 'done'],
      ['delete-root-access-key', 'skipped'],
      ['collect-evidence', 'done'],
      ['verify-incident', 'done'],
    ]);
    expect(readFileSync(join(result.outDir, 'report.md'), 'utf8')).toMatch(/^# CRITICAL: root-account incident `210987654321-/);
  });

  it('sends no task token in any message, and one approval link per task', () => {
    const mail = JSON.stringify(result.outbox);
    expect(mail).not.toContain('drill-token-');
    expect(
      result.outbox.filter((m) => m.topicArn === DRILL_ENV.RESPONDERS_TOPIC_ARN && /\/approvals\/[A-Za-z0-9_-]{43}/.test(m.body)),
    ).toHaveLength(13);
    expect(result.outbox.filter((m) => m.topicArn === DRILL_ENV.ALERT_TOPIC_ARN).map((m) => m.subject)).toEqual([
      '[root-responder] CRITICAL: root activity in account 210987654321',
    ]);
  });

  it('never exceeded 2 LookupEvents calls per second in any region, and changed nothing in the account', () => {
    const byRegion = new Map<string, number[]>();
    for (const c of result.aws.calls.filter((c) => c.command === 'LookupEventsCommand'))
      byRegion.set(c.region, [...(byRegion.get(c.region) ?? []), c.at]);
    expect([...byRegion.keys()].sort()).toEqual(['ap-southeast-2', 'eu-west-1', 'us-east-1']);
    for (const starts of byRegion.values())
      for (const t of starts) expect(starts.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(2);
    expect(result.aws.calls.filter((c) => c.error === 'ThrottlingException')).toEqual([]);
    // The tool's own changes: exactly the approved remediations, each once (standalone account: root
    // credentials themselves are the responders' console work).
    expect(
      result.aws.changes
        .filter((c) => !c.change.startsWith('console:'))
        .map((c) => `${c.change} ${c.target}`)
        .sort(),
    ).toEqual([
      'access-key-inactive AKIASWJJJ66ZZZII4IYY',
      'ec2-remove-launch-permission ami-0a1b2c3d4e5f67890/all',
      'ec2-revoke-ingress sg-07ebc4087aa0b2a81/sgr-0b1c2d3e4f5a6b7c8',
      'ec2-stop-instance i-05261ffb46217cdc3',
      'put-alternate-contact SECURITY',
      'put-user-policy tracy_stone/root-responder-quarantine',
      'start-logging acme-cloudtrail-eu-west-1',
    ]);
  });
});

describe('drill: other paths', () => {
  it('with nobody answering, reminds three times (the production setting), escalates, and ends with every task overdue', async () => {
    const result = await sharedRun('unknown-ip-no-mfa none');
    const output = outputOf(result.executions[0]!);
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    expect(output.humanTasks!.map((t) => t.status)).toEqual(Array(13).fill('overdue'));
    expect(result.outbox.filter((m) => m.topicArn === DRILL_ENV.ESCALATION_TOPIC_ARN)).toHaveLength(13);
    expect(result.outbox.filter((m) => m.subject.includes('Reminder:'))).toHaveLength(39);
    // Nothing approved, nothing changed by the tool.
    expect(result.aws.changes).toEqual([]);
    expect(reportOf(result).status).toBe('needs-attention');
  });

  it('a failure while collecting evidence does not stop containment', async () => {
    const result = await runDrill({
      approve: 'all',
      out: out(),
      handlerFor: (fn, deployed): Handler =>
        fn === 'collectEvidence'
          ? () => Promise.reject(Object.assign(new Error('CloudTrail unreachable'), { name: 'AccessDeniedError' }))
          : deployed,
    });
    const output = outputOf(result.executions[0]!);
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    expect(output.containAndCollect!.Payload.containment.status).toBe('skipped');
    expect(output.containAndCollect!.Payload.evidence).toMatchObject({ status: 'failed', error: { Error: 'AccessDeniedError' } });
    expect(reportOf(result).actions.find((a) => a.action === 'collect-evidence')!.status).toBe('failed');
  });

  it('a step that fails for good is reported to the responders and the execution fails', async () => {
    const result = await runDrill({
      approve: 'all',
      out: out(),
      handlerFor: (fn, deployed): Handler =>
        fn === 'assessIncident' ? () => Promise.reject(Object.assign(new Error('bad plan'), { name: 'InvalidStepInputError' })) : deployed,
    });
    const [execution] = result.executions;
    expect(execution!.status).toBe('FAILED');
    expect(execution!.error).toBe('ResponseFailed');
    expect(top(execution!).slice(-3)).toEqual(['Assess Incident', 'Report Failure', 'Response Failed']);
    const failure = result.outbox.find((m) => m.subject.startsWith('[root-responder] FAILED'));
    expect(failure?.body).toContain('InvalidStepInputError');
    expect(failure?.body).toContain('Did not run: Assess Incident, Notify Responders');
  });

  it('retries a transient failure and then goes on', async () => {
    let calls = 0;
    const result = await runDrill({
      approve: 'all',
      out: out(),
      handlerFor: (fn, deployed): Handler =>
        fn === 'notifyResponders'
          ? async (event) => {
              calls += 1;
              if (calls === 1) throw Object.assign(new Error('throttled'), { name: 'TransientAwsError' });
              return deployed(event);
            }
          : deployed,
    });
    expect(calls).toBe(2);
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    expect(result.executions[0]!.events.filter((e) => e.type === 'StateRetried').map((e) => e.state)).toEqual(['Notify Responders']);
  });

  it('known-ip-with-mfa: asks "was this you?" first; a confirmation closes the incident as expected use', async () => {
    const result = await runDrill({ scenario: 'known-ip-with-mfa', approve: 'all', out: out() });
    const [execution] = result.executions;
    expect(execution!.status).toBe('SUCCEEDED');
    expect(top(execution!)).toEqual(
      expect.arrayContaining(['Ask Whether The Sign-In Was Expected', 'Was It You?', 'Write Incident Report']),
    );
    expect(top(execution!)).not.toContain('Run Human Tasks');
    expect(reportOf(result).status).toBe('expected-use');
  });

  it('known-ip-with-mfa-then-admin: the same sign-in followed by an admin user and StopLogging is never closable as expected use', async () => {
    const result = await runDrill({ scenario: 'known-ip-with-mfa-then-admin', approve: 'all', out: out() });
    const [execution] = result.executions;
    expect(execution!.status).toBe('SUCCEEDED');
    expect(top(execution!)).not.toContain('Ask Whether The Sign-In Was Expected');
    expect(top(execution!)).toContain('Run Human Tasks');
    const report = reportOf(result);
    expect(report.status).not.toBe('expected-use');
    expect(report.humanTasks.map((t) => t.id)).toEqual(
      expect.arrayContaining(['quarantine-iam-user-svc-backup-admin', 'restart-trail-org-trail-us-east-1', 'change-root-password']),
    );
    // Quarantined reversibly: the console password stays, the trail logs again.
    const account = result.aws.world.accounts['135792468013']!;
    expect(account.iamUsers[0]!.loginProfile).toBe(true);
    expect(Object.keys(account.iamUsers[0]!.inlinePolicies ?? {})).toEqual(['root-responder-quarantine']);
    expect(account.trails[0]!.IsLogging).toBe(true);
    // The trust policy is the one CloudTrail recorded before root's change; GuardDuty is on in both regions again.
    expect(JSON.parse(account.roles![0]!.AssumeRolePolicyDocument)).toMatchObject({
      Statement: [{ Principal: { Service: 'codebuild.amazonaws.com' } }],
    });
    expect(Object.values(account.detectors).map((d) => d.Status)).toEqual(['ENABLED', 'ENABLED']);
    expect(report.humanTasks.filter((t) => t.id.startsWith('restore-trust-policy') || t.id.startsWith('enable-guardduty'))).toEqual(
      expect.arrayContaining([expect.objectContaining({ status: 'done', verified: true })]),
    );
    expect(report.status).toBe('resolved');
  });

  it('known-ip-with-mfa with no answer runs the full response', async () => {
    const result = await runDrill({ scenario: 'known-ip-with-mfa', approve: 'none', out: out() });
    expect(top(result.executions[0]!)).toEqual(expect.arrayContaining(['Was It You?', 'Run Human Tasks']));
  });

  it('member-account: root is audited through an AssumeRoot session under the audit policy, without UserName', async () => {
    const result = await sharedRun('member-account all');
    const assume = result.aws.calls.filter((c) => c.command === 'AssumeRootCommand' && c.caller === 'snapshotRootCredentials');
    expect(assume).toHaveLength(1);
    expect(assume[0]).toMatchObject({
      accountId: '999988887777',
      input: {
        TargetPrincipal: '444455556666',
        TaskPolicyArn: { arn: 'arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials' },
        DurationSeconds: 900,
      },
    });
    const rootReads = result.aws.calls.filter(
      (c) => c.principal === 'root-session:IAMAuditRootUserCredentials' && c.caller === 'snapshotRootCredentials',
    );
    expect(rootReads.map((c) => c.command).sort()).toEqual([
      'GetLoginProfileCommand',
      'ListAccessKeysCommand',
      'ListMFADevicesCommand',
      'ListSigningCertificatesCommand',
    ]);
    expect(rootReads.every((c) => c.error === undefined && !('UserName' in (c.input as object)))).toBe(true);
    const findings = reportOf(result).findings;
    expect(findings.map((f) => f.id)).toEqual(expect.arrayContaining(['root-access-keys-present']));
    expect(findings.map((f) => f.id)).not.toContain('root-mfa-off');
    // The hardware key is expected; the virtual device nobody registered is a critical finding.
    expect(findings.filter((f) => f.category === 'mfa-change').map((f) => f.title)).toEqual([
      'Root MFA device arn:aws:iam::444455556666:mfa/backup is not one of the expected devices',
    ]);
    expect(reportOf(result).remediations.map((r) => r.action)).toContain('attach-deny-root-scp');
    // The responders' own root work (their sign-in, the FIDO2 key they registered) is theirs, not a finding.
    expect(findings.filter((f) => f.evidence.some((id) => id.startsWith('drill-')))).toEqual([]);
    // The finding ends in the state the incident ended in: containment deleted the key.
    const keys = (findings as { id: string; resolution?: { by: string; text: string } }[]).find(
      (f) => f.id === 'root-access-keys-present',
    )!;
    expect(keys.resolution).toMatchObject({ by: 'containment' });
    expect(keys.resolution!.text).toMatch(/^Root had access keys; deleted at \S+ by containment \(AKIA/);
  });

  it('member-account: the deny-root SCP is attached from the management account, verified, and detached when the incident closes', async () => {
    const result = await sharedRun('member-account all');
    const report = reportOf(result);
    expect(report.status).toBe('resolved');
    expect(report.humanTasks.find((t) => t.id === 'attach-deny-root-scp')).toMatchObject({ status: 'done' });
    const scp = result.aws.changes.filter((c) => c.change.endsWith('-scp')).map((c) => `${c.change} ${c.target}`);
    expect(scp).toEqual([
      'create-scp root-responder-deny-root-444455556666',
      'attach-scp root-responder-deny-root-444455556666',
      'detach-scp root-responder-deny-root-444455556666',
    ]);
    const calls = result.aws.calls.filter((c) => /Polic(y|ies)/.test(c.command) && !c.command.includes('User'));
    expect(new Set(calls.map((c) => `${c.caller} ${c.accountId}`))).toEqual(
      new Set(['runApprovedAction 999988887777', 'verifyHumanTask 999988887777', 'writeIncidentReport 999988887777']),
    );
    expect(report.actions.find((a) => a.action === 'detach-deny-root-scp')).toMatchObject({ status: 'done' });
    expect(result.aws.world.organization!.attachments!['444455556666']).toEqual([]);
  });

  it('member-account with denyRootScp automatic: the SCP goes on without an approval request, and the report says who decided', async () => {
    const result = await runDrill({ scenario: 'member-account', approve: 'none', out: out(), env: { DENY_ROOT_SCP: 'automatic' } });
    const report = reportOf(result);
    expect(report.humanTasks.find((t) => t.id === 'attach-deny-root-scp')).toMatchObject({
      status: 'done',
      verified: true,
      decidedBy: 'stage configuration (denyRootScp: automatic)',
    });
    expect(result.aws.changes.filter((c) => c.change.endsWith('-scp')).map((c) => c.change)).toEqual(['create-scp', 'attach-scp']);
    // Nobody answered the other tasks: the incident needs attention, and so does the SCP, with how to take it off.
    expect(report.status).toBe('needs-attention');
    expect(report.openItems.find((o) => o.startsWith('The deny-root SCP stays attached'))).toMatch(
      /aws organizations detach-policy --policy-id p-/,
    );
    const executionStates = result.executions[0]!.events.filter((e) => e.type === 'StateEntered').map((e) => e.state);
    expect(executionStates).toContain('Use The Configured Decision');
  });

  it('member-account: the root key and certificate are gone at the end, each deletion is on the report with its time', async () => {
    const result = await sharedRun('member-account all');
    const member = result.aws.world.accounts['444455556666']!;
    expect(member.root.accessKeys).toEqual([]);
    expect(member.root.signingCertificates).toEqual([]);
    expect(
      result.aws.changes
        .filter((c) => !c.change.startsWith('console:'))
        .map((c) => `${c.change} ${c.target}`)
        .sort(),
    ).toEqual([
      'attach-scp root-responder-deny-root-444455556666',
      'create-scp root-responder-deny-root-444455556666',
      'deactivate-root-mfa-device arn:aws:iam::444455556666:mfa/backup',
      'delete-root-access-key AKIAMEMBERROOTKEY001',
      'delete-root-password 444455556666',
      'delete-root-signing-certificate MEMBERCERT000000000000000001',
      'detach-scp root-responder-deny-root-444455556666',
    ]);
    const report = reportOf(result);
    const deletions = report.actions.filter((a) => a.action.startsWith('delete-root-'));
    expect(deletions.map((a) => [a.action, a.status])).toEqual([
      ['delete-root-access-key', 'done'],
      ['delete-root-signing-certificate', 'done'],
    ]);
    expect(
      report.timeline.some(
        (t) =>
          t.state === 'Contain Root Credentials' && /^last root credential deleted [\d.]+ s after intake received the event/.test(t.event),
      ),
    ).toBe(true);
    expect(report.humanTasks.map((t) => t.id)).not.toContain('delete-root-access-keys');
    // Reads under the audit policy, deletes under the delete policy (containment, then each approved
    // root remediation: the unexpected MFA device and the root password).
    const sessions = result.aws.calls
      .filter((c) => c.command === 'AssumeRootCommand')
      .map((c) => `${c.caller} ${(c.input as { TaskPolicyArn: { arn: string } }).TaskPolicyArn.arn.split('/').pop()}`);
    expect(sessions.sort()).toEqual([
      'collectEvidence IAMAuditRootUserCredentials',
      'containRootCredentials IAMDeleteRootUserCredentials',
      'runApprovedAction IAMDeleteRootUserCredentials',
      'runApprovedAction IAMDeleteRootUserCredentials',
      'snapshotRootCredentials IAMAuditRootUserCredentials',
    ]);
  });

  it('management-account: no AssumeRoot, and the report says root can switch the responder off', async () => {
    const result = await runDrill({ scenario: 'management-account', approve: 'all', out: out() });
    expect(result.aws.calls.filter((c) => c.command === 'AssumeRootCommand')).toEqual([]);
    const md = readFileSync(join(result.outDir, 'report.md'), 'utf8');
    expect(md).toContain('root can switch it off');
    // The root keys became a human task; the simulated responder deleted them in the console, and the
    // approval was verified by GetAccountSummary afterwards.
    const report = reportOf(result);
    expect(report.actions.find((a) => a.action === 'delete-root-access-key')!.status).toBe('skipped');
    expect(report.humanTasks.find((t) => t.id === 'delete-root-access-keys')).toMatchObject({ status: 'done', verified: true });
    expect(report.humanTasks.find((t) => t.id === 'change-root-password')).toMatchObject({ status: 'done', verified: true });
    const verifiedAt = result.aws.calls
      .filter((c) => c.caller === 'verifyHumanTask' && c.command === 'GetAccountSummaryCommand')
      .map((c) => c.at);
    expect(verifiedAt.length).toBeGreaterThan(0);
    expect(result.aws.world.accounts['999988887777']!.root.accessKeys).toEqual([]);
    expect(report.status).toBe('resolved');
  });

  it('a "done" that does not verify reopens the task with the reason, then escalates', async () => {
    // The simulated responders approve without doing the console work: verification must catch it.
    const result = await runDrill({ scenario: 'management-account', approve: 'all', consoleWork: false, out: out() });
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    const report = reportOf(result);
    expect(report.humanTasks.find((t) => t.id === 'delete-root-access-keys')!.status).toBe('overdue');
    const reminder = result.outbox.find((m) => m.subject.startsWith('[root-responder] Reminder: Delete the root access keys'));
    expect(reminder?.body).toMatch(
      /^Reminder 1 of 3: Marked done, but verification did not confirm it: GetAccountSummary still shows root access keys \(AccountAccessKeysPresent = 1\)/,
    );
    expect(report.status).toBe('needs-attention');
  });

  it('sign-in-failures-only: no incident opens', async () => {
    const result = await runDrill({ scenario: 'sign-in-failures-only', approve: 'all', out: out() });
    expect(result.intake.map((i) => i.outcome)).toEqual(['ignored', 'ignored', 'ignored']);
    expect(result.executions).toEqual([]);
  });
});

describe('drill: organization (root in two members and the management account at once)', () => {
  let result: DrillResult;
  beforeAll(async () => {
    result = await runDrill({ scenario: 'organization', approve: 'all', out: out() });
  });
  const reportIn = (accountId: string) => {
    const where = result.reports.find((r) => r.accountId === accountId)!;
    return { dir: where.dir, report: JSON.parse(readFileSync(join(where.dir, 'report.json'), 'utf8')) as Report & { accountId: string } };
  };

  it('opens one incident and one execution per account, each with its own report folder', () => {
    expect(result.intake.map((i) => `${i.outcome} ${i.incidentId?.slice(0, 12)}`)).toEqual([
      'opened 444455556666',
      'opened 555566667777',
      'attached 555566667777',
      'attached 555566667777',
      'attached 555566667777',
      'opened 999988887777',
    ]);
    expect(result.executions.map((e) => `${e.name.slice(0, 12)} ${e.status}`).sort()).toEqual([
      '444455556666 SUCCEEDED',
      '555566667777 SUCCEEDED',
      '999988887777 SUCCEEDED',
    ]);
    expect(result.reports.map((r) => r.dir).sort()).toEqual(result.executions.map((e) => join(result.outDir, e.name)).sort());
    for (const accountId of ['444455556666', '555566667777', '999988887777']) {
      const { dir, report } = reportIn(accountId);
      expect(report.accountId).toBe(accountId);
      expect(readdirSync(dir).sort()).toEqual(['assessment', 'evidence', 'report.html', 'report.json', 'report.md', 'verification']);
    }
  });

  it('contains both members through AssumeRoot: every root key and certificate deleted once, in its own account', () => {
    const deletions = result.aws.changes
      .filter((c) => c.change.startsWith('delete-root-access-key') || c.change.startsWith('delete-root-signing-certificate'))
      .map((c) => `${c.accountId} ${c.target}`);
    expect(deletions.sort()).toEqual([
      '444455556666 AKIAMEMBERROOTKEY001',
      '444455556666 MEMBERCERT000000000000000001',
      '555566667777 AKIADATAROOTKEY00001',
      '555566667777 AKIADATAROOTKEY00002',
    ]);
    expect(result.aws.world.accounts['444455556666']!.root.accessKeys).toEqual([]);
    expect(result.aws.world.accounts['555566667777']!.root.accessKeys).toEqual([]);
    const targets = result.aws.calls
      .filter((c) => c.command === 'AssumeRootCommand' && c.caller === 'containRootCredentials')
      .map((c) => (c.input as { TargetPrincipal: string }).TargetPrincipal);
    expect(targets.sort()).toEqual(['444455556666', '555566667777']);
    for (const accountId of ['444455556666', '555566667777']) {
      const { report } = reportIn(accountId);
      expect(report.actions.filter((a) => a.action === 'delete-root-access-key').map((a) => a.status)).toEqual(
        expect.arrayContaining(['done']),
      );
      expect(report.humanTasks.map((t) => t.id)).not.toContain('delete-root-access-keys');
    }
  });

  it("restores the second member's contact and trail through its remediation role, and reads members only through their read role", () => {
    const remediations = result.aws.changes.filter(
      (c) => c.accountId === '555566667777' && !c.change.startsWith('console:') && !c.change.startsWith('delete-root-'),
    );
    expect(remediations.map((c) => `${c.change} ${c.target}`).sort()).toEqual([
      'attach-scp root-responder-deny-root-555566667777',
      'detach-scp root-responder-deny-root-555566667777',
      'put-alternate-contact SECURITY',
      'start-logging acme-cloudtrail-eu-west-1',
    ]);
    const writes = result.aws.calls.filter((c) => c.command === 'PutAlternateContactCommand' || c.command === 'StartLoggingCommand');
    expect(writes.map((c) => `${c.caller} ${c.principal} ${c.accountId}`)).toEqual([
      'runApprovedAction role:root-responder-remediate 555566667777',
      'runApprovedAction role:root-responder-remediate 555566667777',
    ]);
    // Outside AssumeRoot sessions, nothing in a member account is done by anything but its two roles.
    const inMembers = result.aws.calls.filter((c) => c.accountId !== '999988887777' && !c.principal.startsWith('root-session'));
    expect(new Set(inMembers.map((c) => c.principal))).toEqual(new Set(['role:root-responder-read', 'role:root-responder-remediate']));
  });

  it('every account and region sent its canary through intake, so the pipeline check finds nothing silent', () => {
    expect(result.pipeline).toEqual({
      checkedAt: expect.any(String),
      accounts: 3,
      forwarders: 4,
      silent: [],
      uncovered: [],
      unreadable: [],
      brokenRules: [],
      alerted: false,
    });
  });

  it('a forwarding rule removed from one member region is noticed: its canary is missing, the responders are alerted', async () => {
    const broken = await runDrill({
      scenario: 'organization',
      approve: 'all',
      brokenForwarding: [{ accountId: '555566667777', region: 'eu-west-1' }],
      out: out(),
    });
    expect(broken.pipeline).toMatchObject({
      silent: [{ accountId: '555566667777', region: 'eu-west-1', lastArrival: null }],
      alerted: 'problems',
    });
    const alert = broken.outbox.find((m) => m.topicArn === DRILL_ENV.ALERT_TOPIC_ARN && m.subject.includes('Event forwarding'));
    expect(alert?.subject).toBe('[root-responder] Event forwarding: 1 silent, 0 broken rule(s), 0 uncovered region(s), 0 unreadable');
    expect(alert?.body).toContain('- 555566667777 eu-west-1: no canary has arrived yet');
  });

  it("handles the management account's root as human tasks, verified by API, and says root there can switch the responder off", () => {
    const { dir, report } = reportIn('999988887777');
    expect(
      result.aws.calls.filter(
        (c) => c.command === 'AssumeRootCommand' && (c.input as { TargetPrincipal: string }).TargetPrincipal === '999988887777',
      ),
    ).toEqual([]);
    expect(report.actions.find((a) => a.action === 'delete-root-access-key')!.status).toBe('skipped');
    expect(report.humanTasks.find((t) => t.id === 'change-root-password')).toMatchObject({ status: 'done', verified: true });
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('root can switch it off');
    expect(readFileSync(join(reportIn('444455556666').dir, 'report.md'), 'utf8')).not.toContain('root can switch it off');
  });

  it("keeps each account's evidence to its own account", () => {
    for (const accountId of ['444455556666', '555566667777', '999988887777']) {
      const { dir } = reportIn(accountId);
      const pages = readdirSync(join(dir, 'evidence', 'cloudtrail'), { recursive: true })
        .map(String)
        .filter((f) => /page-\d+\.json$/.test(f));
      expect(pages.length).toBeGreaterThan(0);
      const events = pages.flatMap(
        (f) =>
          JSON.parse(readFileSync(join(dir, 'evidence', 'cloudtrail', f), 'utf8')) as {
            recipientAccountId?: string;
            userIdentity?: { accountId?: string };
          }[],
      );
      expect(new Set(events.map((e) => e.recipientAccountId ?? e.userIdentity?.accountId))).toEqual(new Set([accountId]));
    }
  });
});

describe('drill: faults while containing (counted inside the simulated account)', () => {
  const toolChanges = (r: DrillResult) =>
    r.aws.changes
      .filter((c) => !c.change.startsWith('console:'))
      .map((c) => `${c.change} ${c.target}`)
      .sort();

  it('AssumeRoot refused: nothing is deleted, nothing is reported deleted, a person is asked, the workflow completes', async () => {
    const result = await runDrill({
      scenario: 'member-account',
      approve: 'all',
      out: out(),
      faults: [{ command: 'AssumeRootCommand', error: 'AccessDenied', times: Infinity }],
    });
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    // AssumeRoot refused everywhere: no root credential changes (the remediations on root fail too).
    expect(toolChanges(result)).toEqual([]);
    const report = reportOf(result);
    const containment = report.actions.find((a) => a.action === 'delete-root-access-key')!;
    expect(containment.status).toBe('failed');
    expect(report.actions.filter((a) => a.status === 'done' && a.action.startsWith('delete-root-'))).toEqual([]);
    expect(report.humanTasks.find((t) => t.id === 'delete-root-access-keys')).toMatchObject({ status: 'done', verified: true });
  });

  it('DeleteAccessKey throttled: each credential is deleted exactly once and reported done', async () => {
    const result = await runDrill({
      scenario: 'member-account',
      approve: 'all',
      out: out(),
      faults: [{ command: 'DeleteAccessKeyCommand', error: 'ThrottlingException', times: 2 }],
    });
    expect(toolChanges(result).filter((c) => c.startsWith('delete-root-access-key') || c.startsWith('delete-root-signing'))).toEqual([
      'delete-root-access-key AKIAMEMBERROOTKEY001',
      'delete-root-signing-certificate MEMBERCERT000000000000000001',
    ]);
    const done = reportOf(result)
      .actions.filter((a) => a.action.startsWith('delete-root-') && a.status === 'done')
      .map((a) => a.target)
      .sort();
    expect(done).toEqual(['AKIAMEMBERROOTKEY001', 'MEMBERCERT000000000000000001']);
  });
});

describe('drill: approvals over HTTP', () => {
  it('--approve reject-all: every task rejected through the approval page, the incident stays open', async () => {
    const result = await runDrill({ approve: 'reject-all', out: out() });
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    const report = reportOf(result);
    expect(report.humanTasks.map((t) => t.status)).toEqual(Array(13).fill('rejected'));
    expect(report.status).toBe('needs-attention');
    expect(result.approvals.every((a) => a.outcome === 'reject http 200')).toBe(true);
    expect(result.aws.changes).toEqual([]);
  });

  it('writes every email to DIR/outbox/, and with nobody answering each task gets a fresh link in its reminder', async () => {
    const result = await sharedRun('unknown-ip-no-mfa none');
    const files = readdirSync(join(result.outDir, 'outbox'));
    expect(files).toHaveLength(result.outbox.length);
    const links = result.outbox.flatMap((m) => /\/approvals\/([A-Za-z0-9_-]{43})/.exec(m.body)?.[1] ?? []);
    expect(new Set(links).size).toBe(links.length); // every request and reminder carries its own link
    expect(links.length).toBe(52); // 13 tasks x (request + 3 reminders)
  });
});

describe("drill: AWS's own answers (the SDK's exception classes, pages, regions)", () => {
  const toolChanges = (r: DrillResult) =>
    r.aws.changes
      .filter((c) => !c.change.startsWith('console:'))
      .map((c) => `${c.change} ${c.target}`)
      .sort();

  it('quarantines an attacker user that has no console password: done and verified, its login profile never touched', async () => {
    const result = await runDrill({
      approve: 'all',
      out: out(),
      world: (w) => {
        w.accounts['210987654321']!.iamUsers[0]!.loginProfile = false;
      },
    });
    const report = reportOf(result);
    expect(report.humanTasks.find((t) => t.id === 'quarantine-iam-user-tracy-stone')).toMatchObject({ status: 'done', verified: true });
    expect(result.aws.calls.filter((c) => c.command === 'DeleteLoginProfileCommand')).toEqual([]);
    expect(toolChanges(result).filter((c) => c.includes('tracy_stone') || c.includes('AKIASWJJJ66ZZZII4IYY'))).toEqual([
      'access-key-inactive AKIASWJJJ66ZZZII4IYY',
      'put-user-policy tracy_stone/root-responder-quarantine',
    ]);
  });

  it('member-account whose root has no password: the AssumeRoot snapshot says so, and containment still deletes the key', async () => {
    const result = await runDrill({
      scenario: 'member-account',
      approve: 'all',
      out: out(),
      world: (w) => {
        w.accounts['444455556666']!.root.password = false;
      },
    });
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    const snapshot = rootSnapshotOf(outputOf(result.executions[0]!).snapshot);
    expect(snapshot).toMatchObject({ status: 'done', method: 'assume-root-audit', root: { passwordPresent: false } });
    expect(toolChanges(result)).toEqual(expect.arrayContaining(['delete-root-access-key AKIAMEMBERROOTKEY001']));
    expect(reportOf(result).actions.find((a) => a.action === 'snapshot-root-credentials')!.status).toBe('done');
  });

  it('member-account with GetPrimaryEmail refused: the evidence keeps the member as DescribeAccount and ListParents show it', async () => {
    const result = await runDrill({
      scenario: 'member-account',
      approve: 'all',
      out: out(),
      faults: [{ command: 'GetPrimaryEmailCommand', error: 'AccessDeniedException', times: Infinity }],
    });
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    const organization = JSON.parse(readFileSync(join(result.outDir, 'evidence', 'account', 'organization.json'), 'utf8')) as {
      memberAccount: Record<string, unknown> | null;
    };
    expect(organization.memberAccount).toMatchObject({ status: 'ACTIVE', parents: ['ou-ab12-workloads'], primaryEmail: null });
    expect(organization.memberAccount!['email']).toEqual(expect.any(String));
    const evidence = evidenceCollectionOf(outputOf(result.executions[0]!).containAndCollect!.Payload.evidence)!;
    expect(evidence.accountState.unavailable.map((u) => u.what)).toEqual(['member account primary email (account:GetPrimaryEmail)']);
  });

  it('member-without-root-access (trusted access for IAM off): containment skipped, and the report says how to enable centralized root access', async () => {
    const result = await runDrill({ scenario: 'member-without-root-access', approve: 'all', out: out() });
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    expect(result.aws.calls.filter((c) => c.command === 'ListOrganizationsFeaturesCommand').map((c) => c.error)).toEqual(
      expect.arrayContaining(['ServiceAccessNotEnabledException']),
    );
    expect(outputOf(result.executions[0]!).containAndCollect!.Payload.containment.status).toBe('skipped');
    const report = reportOf(result);
    const off = report.findings.filter((f) => f.id === 'centralized-root-access-off');
    expect(off).toHaveLength(1);
    expect(off[0]!.title).toMatch(/^Centralized root access management is not (fully enabled|available) for the organization$/);
    expect(JSON.stringify(off[0])).toContain('trusted access for IAM is not enabled in AWS Organizations');
    expect(report.humanTasks.find((t) => t.id === 'delete-root-access-keys')).toMatchObject({ status: 'done' });
  });

  it("finds root's virtual MFA device on the third page of 250 (IAM pages at 100)", async () => {
    const result = await runDrill({
      scenario: 'known-ip-with-mfa',
      approve: 'all',
      out: out(),
      world: (w) => {
        // Serial numbers that list before root's "root-account-mfa-device".
        w.accounts['135792468013']!.userVirtualMfaDevices = Array.from({ length: 249 }, (_, i) => ({
          SerialNumber: `arn:aws:iam::135792468013:mfa/developer-${String(i).padStart(3, '0')}`,
          UserName: `developer-${i}`,
        }));
      },
    });
    const snapshot = rootSnapshotOf(outputOf(result.executions[0]!).snapshot)!;
    expect(snapshot.root.mfaDevices.map((d) => d.SerialNumber)).toEqual(['arn:aws:iam::135792468013:mfa/root-account-mfa-device']);
    expect(
      result.aws.calls.filter((c) => c.command === 'ListVirtualMFADevicesCommand' && c.caller === 'snapshotRootCredentials'),
    ).toHaveLength(3);
  });
});
