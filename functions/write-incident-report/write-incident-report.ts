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
import type { Finding, ProposedRemediation } from '#shared/findings';
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
import { renderHtml } from './render-html';
import { renderMarkdown } from './render-markdown';
import { type ResolvedFinding, resolveFindings } from './resolutions';
import type { ResponderEvent } from '#shared/responder-activity';

/**
 * Write Incident Report: the one result format (report.json), the final email, and the incident's
 * status: `expected-use` when the responders confirmed the sign-in, `resolved` only when every
 * step ran and every task was done and verified, otherwise `open` (the incident stays open and
 * later root events attach to it). The findings, the tasks' titles, the sign-ins and what arrived
 * late are read back from the incident's folders: the state carries ids, counts and keys.
 */
export const requiredPermissions = [
  ...incidentStorePermissions.close,
  ...notifyPermissions,
  ...evidencePermissions,
  ...evidenceReadPermissions,
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
}

export interface IncidentReport {
  incidentId: string;
  accountId: string;
  region: string;
  severity: Triage['severity'];
  status: IncidentStatus;
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
  timeline: { at: string; state: string; event: string }[];
  evidence: { location: string | null; manifestSha256: string | null; files: number; status: StepStatus | 'unknown' };
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
}

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
  const confirmed = confirmation !== undefined;
  const humanTasks: ReportTask[] = confirmation
    ? [
        {
          id: 'confirm-expected-sign-in',
          title: 'Was this root sign-in one of you?',
          status: 'done',
          decidedBy: confirmation.decision.decidedBy,
          decidedAt: confirmation.decision.decidedAt,
          verified: null,
        },
      ]
    : outcomes.map((o) => {
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
        };
      });

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
  const status: IncidentStatus = confirmed ? 'expected-use' : openItems.length === 0 ? 'resolved' : 'open';
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
    findings: resolveFindings([...stored.findings, ...stored.lateFindings], { actions, humanTasks, remediations: stored.remediations }),
    responderActivity: stored.responderActivity ?? [],
    lateEvents: verification && 'lateEvents' in verification ? verification.lateEvents : null,
    remediations: stored.remediations,
    actions,
    humanTasks,
    openItems,
    timeline,
    evidence: collection
      ? {
          location: collection.evidence.location,
          manifestSha256: collection.evidence.manifestSha256,
          files: collection.evidence.files,
          status: 'done',
        }
      : { location: null, manifestSha256: null, files: 0, status: evidenceStep },
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

export async function writeIncidentReport(state: ReportInput, deps: WriteReportDeps): Promise<ReportWritten> {
  const report = buildReport(state, await readReportInputs(state, deps.reader), deps.clock.now(), {
    mode: deps.mode,
    responderAccountId: deps.responderAccountId,
  });
  await deps.writer.write('report.json', Buffer.from(`${JSON.stringify(report, null, 2)}\n`));
  await deps.writer.write('report.md', Buffer.from(renderMarkdown(report)));
  await deps.writer.write('report.html', Buffer.from(renderHtml(report)));
  if (report.status !== 'open') await deps.store.close(state.accountId, state.incidentId, report.status, report.generatedAt);
  await publish(deps.sns, deps.respondersTopicArn, {
    subject: `[root-responder] Report: incident ${state.incidentId} is ${report.status}`,
    body: [
      `Incident ${state.incidentId}, account ${state.accountId}: ${report.status}.`,
      `Severity ${report.severity}. ${state.trigger.reasons.join(' ')}`,
      '',
      'Findings still true:',
      ...report.findings.filter((f) => !f.resolution).map((f) => `- [${f.severity}] ${f.title}`),
      ...(report.findings.some((f) => f.resolution)
        ? ['', 'Fixed during the incident:', ...report.findings.flatMap((f) => (f.resolution ? [`- ${f.resolution.text}`] : []))]
        : []),
      ...(report.responderActivity.some((a) => a.status === 'confirmed')
        ? [
            '',
            `Responder activity (not findings): ${report.responderActivity.filter((a) => a.status === 'confirmed').length} root event(s) your own console tasks explain.`,
          ]
        : []),
      '',
      'Still open:',
      ...(report.openItems.length ? report.openItems.map((o) => `- ${o}`) : ['- nothing']),
    ].join('\n'),
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
