import type { Clock } from '#shared/clock';
import { failureReason, whatToDoInstead } from '#shared/report-text';
import { type IncidentStore, incidentStorePermissions } from '#shared/incident-store';
import { notifyPermissions, publish } from '#shared/notify';
import type { IncidentStatus } from '#shared/schemas';
import type { SnsSender } from '#shared/sns-types';
import type { Triage } from '#shared/triage';
import {
  evidencePermissions,
  evidenceReadPermissions,
  INCIDENT_FILES,
  type ObjectReader,
  type ObjectWriter,
  readJson,
} from '#shared/evidence';
import type { TargetClients } from '#shared/clients';
import type { Finding, ProposedRemediation } from '#shared/findings';
import { attachDenyRootScpMeta, detachDenyRootScp } from '#shared/remediations/deny-root-scp';
import { readPlan } from '#shared/plan';
import type { AssessmentSummary } from '#shared/contracts/assessment';
import type { StepStatus } from '#shared/contracts/common';
import { containmentOf } from '#shared/contracts/containment';
import { evidenceCollectionOf } from '#shared/contracts/evidence-collection';
import { type SignIn, StoredFindingSchema, StoredFindingsSchema, StoredSignInSchema } from '#shared/contracts/incident-files';
import type { ReportWritten } from '#shared/contracts/report';
import { rootSnapshotOf } from '#shared/contracts/snapshot';
import type { TaskOutcome } from '#shared/contracts/task-outcome';
import type { ReportInput } from '#shared/contracts/workflow-state';
import { z } from 'zod';
import { emailText as mail } from '#shared/text';
import { renderHtml } from './render-html';
import { renderMarkdown } from './render-markdown';
import { type ResolvedFinding, resolveFindings } from './resolutions';
import type { ResponderEvent } from '#shared/responder-activity';

/**
 * Write Incident Report: the one result format (report.json), the final email, and the incident's
 * final status: `expected-use` when the responders confirmed the sign-in, `resolved` only when every
 * step ran and every task was done and verified, otherwise `needs-attention` with its open items.
 * The execution ends here, so the incident ends too: the account is released, and its next root
 * event opens a new incident that links this one. The findings, the tasks' titles, the sign-ins and what arrived
 * late are read back from the incident's folders: the state carries ids, counts and keys.
 */
export const requiredPermissions = [
  ...incidentStorePermissions.close,
  ...notifyPermissions,
  ...evidencePermissions,
  ...evidenceReadPermissions,
  // Undone when the incident closes: the deny-root SCP (Organizations, from the responder's own account).
  ...(attachDenyRootScpMeta.permissions.undo ?? []),
] as const;

export interface ReportAction {
  action: string;
  target: string;
  status: StepStatus | 'unknown';
  at: string;
  detail: string;
}

export interface ReportTask {
  id: string;
  title: string;
  status: 'open' | 'done' | 'rejected' | 'overdue' | 'failed';
  decidedBy: string | null;
  decidedAt: string | null;
  verified: boolean | null;
  /** For an approved remediation: whether it ran. */
  remediation?: string;
  /** Why a task failed, or why its remediation did not run, and what to do instead. */
  reason?: string;
  /** For a remediation that changed something: exactly how to undo it. */
  undo?: string[];
}

export interface IncidentReport {
  incidentId: string;
  accountId: string;
  region: string;
  severity: Triage['severity'];
  status: Exclude<IncidentStatus, 'open'>;
  trigger: Triage;
  unparsed: boolean;
  /** Every finding; `resolution` on those containment, a verified task or a remediation fixed (resolutions.ts). */
  findings: ResolvedFinding[];
  /** Root activity the responders' own root console tasks explain (not the attacker's), and what was raised after all. */
  responderActivity: ResponderEvent[];
  /** Events CloudTrail delivered after the first collection (null: not checked). */
  lateEvents: number | null;
  remediations: ProposedRemediation[];
  actions: ReportAction[];
  humanTasks: ReportTask[];
  openItems: string[];
  /** The account's incident before this one, when there was one. */
  previousIncidentId: string | null;
  timeline: { at: string; state: string; event: string }[];
  evidence: {
    location: string | null;
    manifestSha256: string | null;
    /** The S3 version id of evidence/manifest.json (null: not collected, or a store without versions). */
    manifestVersionId: string | null;
    files: number;
    status: StepStatus | 'unknown';
  };
  /** What this responder cannot do or see here, said plainly. */
  limits: string[];
  /** The top-level states this incident went through (the HTML report highlights them). */
  statesVisited: string[];
  generatedAt: string;
}

/** What the report reads back from the incident's folders. */
export interface ReportInputs {
  /** assessment/findings.json: every finding as assessed, and the proposed remediations. */
  findings: Finding[];
  remediations: ProposedRemediation[];
  /** The tasks' titles by id (assessment/plan.json). */
  titles: Record<string, string>;
  /** evidence/sign-ins.json: root sign-ins of the window. */
  signIns: SignIn[];
  /** verification/late-findings.json: what arrived after the first collection. */
  lateFindings: Finding[];
  /** verification/responder-activity.json: the responders' own root work, by task. */
  responderActivity?: ResponderEvent[];
}

export const NOTHING_STORED: ReportInputs = {
  findings: [],
  remediations: [],
  titles: {},
  signIns: [],
  lateFindings: [],
  responderActivity: [],
};

const StoredResponderEventSchema = z.looseObject({
  eventId: z.string(),
  at: z.string(),
  eventName: z.string(),
  sourceIPAddress: z.string().nullable(),
  taskId: z.string(),
  status: z.enum(['confirmed', 'raised']),
  reason: z.string(),
});

/** The timeline shows the last sign-ins; sign-ins.json has them all. */
const TIMELINE_SIGN_INS = 50;

export interface WriteReportDeps {
  store: IncidentStore;
  /** Where report.json and report.md go: the incident's folder in the evidence bucket (drill: DIR). */
  writer: ObjectWriter;
  /** The same folder, read: evidence/, assessment/ and verification/ beneath it. */
  reader: ObjectReader;
  mode: 'standalone' | 'organization';
  responderAccountId: string;
  sns: SnsSender;
  respondersTopicArn: string;
  clock: Clock;
  /** The responder's own account (Organizations): the deny-root SCP is detached from there when the incident closes. */
  responder?: TargetClients;
}

/** The plan's task that attaches the deny-root SCP (assess-incident names it so). */
const DENY_ROOT_SCP_TASK = 'attach-deny-root-scp';

/** Why a task is not done, in a responder's words (empty when it is done or simply waiting). */
function taskReason(o: TaskOutcome): string {
  if (o.status === 'failed') return failureReason(o.error);
  if (o.kind === 'remediation' && o.status === 'done' && o.action.status === 'failed') return failureReason(o.action.detail);
  return '';
}

/** The automatic steps the assessment reports on, each as the report's action, in the order the report lists them. */
const ACTION_OF_STEP: Record<keyof AssessmentSummary['steps'], string> = {
  snapshot: 'snapshot-root-credentials',
  containment: 'delete-root-access-key',
  evidence: 'collect-evidence',
};
const ASSESSED_STEPS = ['snapshot', 'containment', 'evidence'] as const;

/** What Verify Incident reported (nothing when its Catch wrote an error in its place). */
const verificationOf = (state: ReportInput) =>
  state.verification && 'Payload' in state.verification ? state.verification.Payload : undefined;

/** Read back what the report needs from the incident's folders; only what the steps that ran wrote. */
export async function readReportInputs(state: ReportInput, reader: ObjectReader): Promise<ReportInputs> {
  const assessment = state.assessment?.Payload;
  const at = (folder: 'evidence' | 'assessment' | 'verification'): ObjectReader => ({ read: (path) => reader.read(`${folder}/${path}`) });
  const verification = verificationOf(state);
  const [assessed, plan, signIns, lateFindings, responderActivity] = await Promise.all([
    assessment ? readJson(at('assessment'), INCIDENT_FILES.assessment.findings, StoredFindingsSchema) : undefined,
    assessment ? readPlan(at('assessment')) : undefined,
    assessment?.steps.evidence.status === 'done'
      ? readJson(at('evidence'), INCIDENT_FILES.evidence.signIns, z.array(StoredSignInSchema))
      : undefined,
    verification?.status === 'done'
      ? readJson(at('verification'), INCIDENT_FILES.verification.lateFindings, z.array(StoredFindingSchema))
      : undefined,
    verification?.status === 'done' && verification.keys?.responderActivity
      ? readJson(at('verification'), INCIDENT_FILES.verification.responderActivity, z.array(StoredResponderEventSchema))
      : undefined,
  ]);
  return {
    findings: assessed?.findings ?? [],
    remediations: assessed?.remediations ?? [],
    titles: Object.fromEntries([...(plan?.gate ?? []), ...(plan?.tasks ?? [])].map((t) => [t.id, t.title])),
    signIns: signIns ?? [],
    lateFindings: lateFindings ?? [],
    responderActivity: responderActivity ?? [],
  };
}

export function buildReport(
  state: ReportInput,
  stored: ReportInputs,
  now: Date,
  where: { mode: 'standalone' | 'organization'; responderAccountId: string } = { mode: 'standalone', responderAccountId: state.accountId },
): IncidentReport {
  const assessment = state.assessment?.Payload;
  const gate = state.gate;
  const outcomes = state.humanTasks ?? [];
  const verification = verificationOf(state);
  const at = now.toISOString();

  const parallel = state.containAndCollect?.Payload;
  const containment = containmentOf(parallel?.containment);
  const actions: ReportAction[] = [];
  if (assessment) {
    for (const step of ASSESSED_STEPS) {
      const s = assessment.steps[step];
      if (step === 'containment' && containment?.actions.length) {
        // One entry per credential, with the time it was deleted.
        for (const a of containment.actions) {
          const handOver =
            a.status === 'failed'
              ? ` A person deletes it in the console (task "Delete the root access keys")${a.action === 'delete-root-access-key' ? ', verified by API' : '; no API confirms a certificate is gone outside an AssumeRoot session'}.`
              : '';
          actions.push({
            action: a.action,
            target: a.target,
            status: a.status === 'already-gone' ? 'done' : a.status,
            at: a.at,
            detail: `${a.detail}${handOver}`,
          });
        }
        continue;
      }
      actions.push({ action: ACTION_OF_STEP[step], target: state.accountId, status: s.status, at, detail: s.detail });
    }
  }
  if (verification)
    actions.push({ action: 'verify-incident', target: state.accountId, status: verification.status, at, detail: verification.detail });

  const first = gate?.[0];
  const confirmation = first?.confirmed === true ? first : undefined;
  // A confirmation closes the sign-in finding; it closes the incident only when nothing else was found.
  const confirmed = confirmation !== undefined && assessment?.plan.closesOnConfirmation === true;
  const confirmationTask: ReportTask[] = confirmation
    ? [
        {
          id: 'confirm-expected-sign-in',
          title: `Was this root sign-in one of you? (confirmed: the sign-in finding is closed${confirmed ? '' : '; the other findings kept the response going'})`,
          status: 'done',
          decidedBy: confirmation.decision.decidedBy,
          decidedAt: confirmation.decision.decidedAt,
          verified: null,
        },
      ]
    : [];
  const humanTasks: ReportTask[] = confirmed
    ? confirmationTask
    : [
        ...confirmationTask,
        ...outcomes.map((o): ReportTask => {
          // Only a completed task was decided, acted on and verified.
          const done = o.status === 'done' ? o : undefined;
          return {
            id: o.taskId,
            title: stored.titles[o.taskId] ?? 'unknown task',
            // An approved remediation is done only when it ran.
            status: o.kind === 'remediation' && done && done.action.status !== 'done' ? 'open' : o.status,
            ...(o.kind === 'remediation' ? { remediation: done?.action.status ?? 'not run' } : {}),
            decidedBy: done?.decision.decidedBy ?? null,
            decidedAt: done?.decision.decidedAt ?? null,
            verified: done?.verification.verified ?? null,
            ...(taskReason(o) ? { reason: taskReason(o) } : {}),
            ...(done?.action.undo?.length ? { undo: done.action.undo } : {}),
          };
        }),
      ];

  // An access key containment could not delete is closed when a person deleted the keys and the API
  // confirmed it (GetAccountSummary counts access keys; a signing certificate stays open).
  const keysDeletedByPerson = humanTasks.some((t) => t.id === 'delete-root-access-keys' && t.status === 'done' && t.verified === true);
  const openItems = [
    ...actions
      .filter((a) => a.status !== 'done' && a.status !== 'skipped' && !(keysDeletedByPerson && a.action === 'delete-root-access-key'))
      .map((a) => `${a.action}: ${a.status}${a.detail ? ` (${a.detail})` : ''}`),
    ...humanTasks
      // Done and verified, or done where no API can check (the responder's decision stands): not open.
      // A rejected task is open too: people declined it, so someone must look again.
      .filter((t) => !confirmed && !(t.status === 'done' && t.verified !== false))
      .map(
        (t) =>
          `${t.title}: ${t.remediation && t.status === 'open' ? `approved, but the remediation did not run (${t.remediation})` : `${t.status}${t.status === 'done' ? ', not verified' : ''}`}${t.reason ? `: ${t.reason}` : ''}`,
      ),
  ];
  // What root exposed or launched stays exposed until someone undoes it: an undo not built
  // (not-implemented) is a person's, and a proposed undo that did not run and verify leaves it open too.
  const findings = resolveFindings([...stored.findings, ...stored.lateFindings], {
    actions,
    humanTasks,
    remediations: stored.remediations,
  });
  if (!confirmed)
    for (const f of findings)
      if (f.exposure && !f.resolution && f.exposure.undo.status === 'not-implemented')
        openItems.push(`${f.title}: undo by hand (${f.exposure.undo.kind}: not-implemented)`);
      else if (f.exposure && !f.resolution)
        openItems.push(`${f.title}: still exposed (${f.exposure.undo.kind} proposed, not done and verified)`);
      else if (!f.exposure && !f.resolution && f.id.startsWith(LATE) && (f.severity === 'critical' || f.severity === 'high'))
        openItems.push(lateOpenItem(f, humanTasks));
  const status: Exclude<IncidentStatus, 'open'> = confirmed ? 'expected-use' : openItems.length === 0 ? 'resolved' : 'needs-attention';
  const evidenceStep = assessment?.steps.evidence.status ?? 'unknown';
  const collection = evidenceStep === 'done' ? evidenceCollectionOf(parallel?.evidence) : undefined;
  const snapshot = assessment?.steps.snapshot.status === 'done' ? rootSnapshotOf(state.snapshot) : undefined;

  const limitsNote: string[] = [];
  const timeline: IncidentReport['timeline'] = [
    {
      at: state.trigger.eventTime ?? state.openedAt,
      state: 'Intake',
      event: `${state.trigger.eventName || 'event'} by root opened the incident`,
    },
  ];
  for (const s of collection ? stored.signIns.slice(-TIMELINE_SIGN_INS) : [])
    timeline.push({
      at: s.at,
      state: 'CloudTrail',
      event: `root sign-in ${s.outcome} from ${s.sourceIPAddress ?? 'unrecorded'}${s.mfa === false ? ' without MFA' : s.mfa ? ' with MFA' : ''}`,
    });
  if (snapshot) timeline.push({ at: snapshot.takenAt, state: 'Snapshot Root Credentials', event: snapshot.detail });
  const deletions = (containment?.actions ?? []).filter((a) => a.status === 'done');
  for (const a of deletions) timeline.push({ at: a.at, state: 'Contain Root Credentials', event: `${a.action} ${a.target}` });
  if (deletions.length > 0) {
    const last = deletions
      .map((a) => a.at)
      .sort()
      .pop()!;
    const received = state.receivedAt ?? state.openedAt;
    const seconds = (from: string) => ((Date.parse(last) - Date.parse(from)) / 1000).toFixed(1);
    timeline.push({
      at: last,
      state: 'Contain Root Credentials',
      event: `last root credential deleted ${seconds(received)} s after intake received the event (${seconds(state.trigger.eventTime ?? state.openedAt)} s after the event itself)`,
    });
  }
  if (containment?.cutOff) limitsNote.push(containment.cutOff);
  if (collection) timeline.push({ at: collection.window.end, state: 'Collect Evidence', event: collection.detail });
  for (const a of stored.responderActivity ?? [])
    timeline.push({
      at: a.at,
      state: 'CloudTrail',
      event:
        a.status === 'confirmed'
          ? `responder activity for task ${stored.titles[a.taskId] ?? a.taskId}: root ${a.eventName} from ${a.sourceIPAddress ?? 'unrecorded'}`
          : `root ${a.eventName} from ${a.sourceIPAddress ?? 'unrecorded'}: matched task ${stored.titles[a.taskId] ?? a.taskId}, which was not approved: raised as a finding`,
    });
  for (const t of humanTasks)
    if (t.decidedAt)
      timeline.push({
        at: t.decidedAt,
        state: 'Run Human Tasks',
        event: `${t.title}: ${t.status}${t.decidedBy ? ` (${t.decidedBy})` : ''}`,
      });
  timeline.push({ at, state: 'Write Incident Report', event: `incident ${status}` });
  timeline.sort((a, b) => a.at.localeCompare(b.at));

  const limits: string[] = [
    ...(snapshot?.notVisible.map((n) => `Not visible to the snapshot: ${n}.`) ?? []),
    // A read that was refused or failed: the evidence lacks it, and a person should look.
    ...(collection?.accountState.unavailable.map(
      (u) => `Not read: ${u.what} (${u.error}). ${whatToDoInstead(/refused|denied/i.test(u.error) ? 'AccessDenied' : '')}`,
    ) ?? []),
    ...limitsNote,
  ];
  if (where.mode === 'standalone' || state.accountId === where.responderAccountId) {
    limits.push(
      "This responder runs in the affected account: root can switch it off, stop executions, change the approvals function or read the responders' TOTP secrets. The evidence already written is safe only because of the bucket's Object Lock.",
    );
  }

  return {
    incidentId: state.incidentId,
    accountId: state.accountId,
    region: state.region,
    severity: assessment?.severity ?? state.trigger.severity,
    status,
    trigger: state.trigger,
    unparsed: state.unparsed,
    findings,
    responderActivity: stored.responderActivity ?? [],
    lateEvents: verification && 'lateEvents' in verification ? verification.lateEvents : null,
    remediations: stored.remediations,
    actions,
    humanTasks,
    openItems,
    previousIncidentId: state.previousIncidentId ?? null,
    timeline,
    evidence: collection
      ? {
          location: collection.evidence.location,
          manifestSha256: collection.evidence.manifestSha256,
          manifestVersionId: collection.evidence.manifestVersionId,
          files: collection.evidence.files,
          status: 'done',
        }
      : { location: null, manifestSha256: null, manifestVersionId: null, files: 0, status: evidenceStep },
    limits,
    statesVisited: [
      ...(
        [
          ['snapshot', 'Snapshot Root Credentials'],
          ['containAndCollect', 'Contain And Collect Evidence'],
          ['assessment', 'Assess Incident'],
          ['notification', 'Notify Responders'],
        ] as const
      )
        .filter(([key]) => state[key] !== undefined)
        .map(([, name]) => name),
      ...(state.notification !== undefined ? ['Confirmation Needed?'] : []),
      ...(gate ? ['Ask Whether The Sign-In Was Expected', 'Was It You?'] : []),
      ...(state.humanTasks !== undefined ? ['Run Human Tasks'] : []),
      ...(state.verification !== undefined ? ['Verify Incident'] : []),
      'Write Incident Report',
    ],
    generatedAt: at,
  };
}

const LATE = 'late-';
const LATE_TITLE = 'Arrived after the first collection: ';

/**
 * A critical or high finding that arrived after the first collection (root acting while the
 * responders worked) and that no task or remediation resolved: the plan never saw it, so a person
 * must act on it, and the incident cannot end resolved.
 */
function lateOpenItem(f: ResolvedFinding, tasks: ReportTask[]): string {
  const what = f.title.startsWith(LATE_TITLE) ? f.title.slice(LATE_TITLE.length) : f.title;
  if (f.id.startsWith(`${LATE}root-password-changed-`)) {
    const changed = tasks.some((t) => t.id === 'change-root-password' && t.status === 'done');
    return `${what}${changed ? ", after the responders' change" : ', while the response ran'}: change it again and check the root MFA devices`;
  }
  return `${what}: arrived after the first collection, after the plan was made, and nothing resolved it: review it and act`;
}

/**
 * The deny-root SCP attached during the incident comes off when the incident closes (resolved or
 * expected use). While items stay open it stays on: root of that account has nothing legitimate to
 * do, and AssumeRoot sessions are spared. Either way the report says so.
 */
async function settleDenyRootScp(state: ReportInput, report: IncidentReport, deps: WriteReportDeps): Promise<void> {
  const attached = (state.humanTasks ?? []).some(
    (o) => o.taskId === DENY_ROOT_SCP_TASK && o.status === 'done' && o.action.status === 'done',
  );
  if (!attached) return;
  const at = deps.clock.now().toISOString();
  if (report.status === 'needs-attention') {
    const task = report.humanTasks.find((t) => t.id === DENY_ROOT_SCP_TASK);
    report.openItems.push(
      `The deny-root SCP stays attached to ${state.accountId} while this incident needs attention; detach it once the items above are done: ${task?.undo?.join('; ') ?? 'aws organizations detach-policy'}`,
    );
    return;
  }
  if (!deps.responder) {
    report.openItems.push(`Detach the deny-root SCP from ${state.accountId}: this report step has no Organizations client.`);
    report.status = 'needs-attention';
    return;
  }
  try {
    const out = await detachDenyRootScp(deps.responder, state.accountId);
    report.actions.push({ action: 'detach-deny-root-scp', target: state.accountId, status: out.status, at, detail: out.detail });
    report.timeline.push({ at, state: 'Write Incident Report', event: out.detail });
  } catch (error) {
    // Not detached: the account's root stays denied, which is safe; a person detaches it.
    const detail = `${(error as Error).name}: ${(error as Error).message}`.slice(0, 400);
    report.actions.push({ action: 'detach-deny-root-scp', target: state.accountId, status: 'failed', at, detail });
    report.openItems.push(`detach-deny-root-scp: failed (${detail})`);
    report.status = 'needs-attention';
  }
}

/**
 * The report email. Every value from events is one line (`emailText`); the evidence block carries
 * the manifest's SHA-256 and the S3 version ids of the manifest and of each report file, so the
 * bundle and the report can be checked against this email, outside the bucket.
 */
export function reportEmail(report: IncidentReport, versions: Record<string, string | null>, location: string): string {
  const version = (id: string | null | undefined) => (id ? mail(id) : 'none (this store keeps no versions)');
  const e = report.evidence;
  return [
    `Incident ${mail(report.incidentId)}, account ${mail(report.accountId)}: ${report.status}.`,
    ...(report.previousIncidentId ? [`It follows incident ${mail(report.previousIncidentId)} in the same account.`] : []),
    `Severity ${report.severity}. ${mail(report.trigger.reasons.join(' '))}`,
    '',
    'Findings still true:',
    ...report.findings.filter((f) => !f.resolution).map((f) => `- [${f.severity}] ${mail(f.title)}`),
    ...(report.findings.some((f) => f.resolution)
      ? ['', 'Fixed during the incident:', ...report.findings.flatMap((f) => (f.resolution ? [`- ${mail(f.resolution.text)}`] : []))]
      : []),
    ...(report.responderActivity.some((a) => a.status === 'confirmed')
      ? [
          '',
          `Responder activity (not findings): ${report.responderActivity.filter((a) => a.status === 'confirmed').length} root event(s) your own console tasks explain.`,
        ]
      : []),
    '',
    'Still open:',
    ...(report.openItems.length ? report.openItems.map((o) => `- ${mail(o)}`) : ['- nothing']),
    '',
    'Evidence (keep this email: it lets anyone check the bundle and the report outside the bucket):',
    ...(e.manifestSha256
      ? [
          `  ${(e.location ?? '').replace(/\/?$/, '/')}manifest.json`,
          `  manifest.json SHA-256: ${e.manifestSha256}`,
          `  manifest.json version id: ${version(e.manifestVersionId)}`,
          `  ${e.files} files. Check a downloaded copy: npx root-responder verify-evidence DIR --digest ${e.manifestSha256}`,
        ]
      : [`  none: the evidence collection ${report.evidence.status === 'unknown' ? 'did not run' : `is ${report.evidence.status}`}.`]),
    `Report: ${location.replace(/\/?$/, '/')}`,
    ...Object.entries(versions).map(([file, id]) => `  ${file} version id: ${version(id)}`),
  ].join('\n');
}

export async function writeIncidentReport(state: ReportInput, deps: WriteReportDeps): Promise<ReportWritten> {
  const report = buildReport(state, await readReportInputs(state, deps.reader), deps.clock.now(), {
    mode: deps.mode,
    responderAccountId: deps.responderAccountId,
  });
  await settleDenyRootScp(state, report, deps);
  const versions = {
    'report.json': (await deps.writer.write('report.json', Buffer.from(`${JSON.stringify(report, null, 2)}\n`))) || null,
    'report.md': (await deps.writer.write('report.md', Buffer.from(renderMarkdown(report)))) || null,
    'report.html': (await deps.writer.write('report.html', Buffer.from(renderHtml(report)))) || null,
  };
  await deps.store.close(state.accountId, state.incidentId, report.status, report.generatedAt, {
    closedBy: 'write-incident-report',
    ...(report.status === 'needs-attention' ? { openItems: report.openItems } : {}),
  });
  await publish(deps.sns, deps.respondersTopicArn, {
    subject: `[root-responder] Report: incident ${state.incidentId} is ${report.status}`,
    body: reportEmail(report, versions, deps.writer.location),
    attributes: { severity: report.severity },
  });
  return {
    step: 'write-incident-report',
    status: 'done',
    incidentStatus: report.status,
    severity: report.severity,
    findings: report.findings.length,
    openItems: report.openItems.slice(0, 50),
    stored: { location: deps.writer.location, files: ['report.json', 'report.md', 'report.html'] },
  };
}
