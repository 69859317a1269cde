import type { Clock } from '#shared/clock';
import { type IncidentStore, incidentStorePermissions } from '#shared/incident-store';
import { notifyPermissions, publish } from '#shared/notify';
import { notImplemented, type NotImplemented } from '#shared/not-implemented';
import type { IncidentStatus, StepStatus, WorkflowState } from '#shared/schemas';
import type { SNSClient } from '#shared/sns-types';
import type { Triage } from '#shared/triage';
import type { Assessment, Finding } from '../assess-incident/assess-incident';

/**
 * Write Incident Report: the one result format (report.json), the final email, and the incident's
 * status: `expected-use` when the responders confirmed the sign-in, `resolved` only when every
 * step ran and every task was done and verified, otherwise `open` (the incident stays open and
 * later root events attach to it).
 */
export const requiredPermissions = [...incidentStorePermissions.close, ...notifyPermissions] as const;

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
}

export interface IncidentReport {
  incidentId: string;
  accountId: string;
  region: string;
  severity: Triage['severity'];
  status: IncidentStatus;
  trigger: Triage;
  unparsed: boolean;
  findings: Finding[];
  actions: ReportAction[];
  humanTasks: ReportTask[];
  openItems: string[];
  timeline: { at: string; state: string; event: string }[];
  evidence: { location: string | null; manifestSha256: string | null; files: number; status: StepStatus };
  generatedAt: string;
}

export interface WriteReportDeps {
  store: IncidentStore;
  sns: SNSClient;
  respondersTopicArn: string;
  clock: Clock;
}

interface TaskOutcome {
  taskId?: string;
  title?: string;
  status?: string;
  decision?: { decidedBy?: string; decidedAt?: string };
  verification?: { verified?: boolean | null };
}

const ACTION_OF_STEP: Record<keyof Assessment['steps'], string> = {
  snapshot: 'snapshot-root-credentials',
  containment: 'delete-root-access-key',
  evidence: 'collect-evidence',
};

export function buildReport(state: WorkflowState, now: Date): IncidentReport {
  const fields = state as Record<string, unknown>;
  const assessment = (fields['assessment'] as { Payload?: Assessment } | undefined)?.Payload;
  const gate = fields['gate'] as { confirmed?: boolean; decision?: { decidedBy?: string; decidedAt?: string } }[] | undefined;
  const outcomes = (fields['humanTasks'] as TaskOutcome[] | undefined) ?? [];
  const verification = (fields['verification'] as { Payload?: { status?: StepStatus; detail?: string } } | undefined)?.Payload;
  const at = now.toISOString();

  const actions: ReportAction[] = assessment
    ? Object.entries(assessment.steps).map(([step, s]) => ({ action: ACTION_OF_STEP[step as keyof Assessment['steps']], target: state.accountId, status: s.status, at, detail: s.detail }))
    : [];
  if (verification) actions.push({ action: 'verify-incident', target: state.accountId, status: verification.status ?? 'unknown', at, detail: verification.detail ?? '' });

  const confirmed = gate?.[0]?.confirmed === true;
  const humanTasks: ReportTask[] = confirmed
    ? [{ id: 'confirm-expected-sign-in', title: 'Was this root sign-in one of you?', status: 'done', decidedBy: gate?.[0]?.decision?.decidedBy ?? null, decidedAt: gate?.[0]?.decision?.decidedAt ?? null, verified: null }]
    : outcomes.map((o) => ({
        id: o.taskId ?? 'unknown',
        title: o.title ?? 'unknown task',
        status: o.status === 'done' || o.status === 'rejected' || o.status === 'overdue' || o.status === 'failed' ? o.status : 'open',
        decidedBy: o.decision?.decidedBy ?? null,
        decidedAt: o.decision?.decidedAt ?? null,
        verified: typeof o.verification?.verified === 'boolean' ? o.verification.verified : null,
      }));

  const openItems = [
    ...actions.filter((a) => a.status !== 'done' && a.status !== 'skipped').map((a) => `${a.action}: ${a.status}${a.detail ? ` (${a.detail})` : ''}`),
    ...humanTasks.filter((t) => !confirmed && !(t.status === 'done' && t.verified === true) && t.status !== 'rejected').map((t) => `${t.title}: ${t.status}${t.status === 'done' ? ', not verified' : ''}`),
  ];
  const status: IncidentStatus = confirmed ? 'expected-use' : openItems.length === 0 ? 'resolved' : 'open';
  const evidenceStep = assessment?.steps.evidence.status ?? 'unknown';

  return {
    incidentId: state.incidentId,
    accountId: state.accountId,
    region: state.region,
    severity: assessment?.severity ?? state.trigger.severity,
    status,
    trigger: state.trigger,
    unparsed: state.unparsed,
    findings: assessment?.findings ?? [],
    actions,
    humanTasks,
    openItems,
    timeline: [{ at: state.trigger.eventTime ?? state.openedAt, state: 'Intake', event: `${state.trigger.eventName} by root` }],
    evidence: { location: null, manifestSha256: null, files: 0, status: evidenceStep === 'unknown' ? 'failed' : evidenceStep },
    generatedAt: at,
  };
}

export async function writeIncidentReport(
  state: WorkflowState,
  deps: WriteReportDeps,
): Promise<{ step: string; status: 'done'; incidentStatus: IncidentStatus; report: IncidentReport; stored: NotImplemented }> {
  const report = buildReport(state, deps.clock.now());
  if (report.status !== 'open') await deps.store.close(state.accountId, state.incidentId, report.status, report.generatedAt);
  await publish(deps.sns, deps.respondersTopicArn, {
    subject: `[root-responder] Report: incident ${state.incidentId} is ${report.status}`,
    body: [
      `Incident ${state.incidentId}, account ${state.accountId}: ${report.status}.`,
      `Severity ${report.severity}. ${state.trigger.reasons.join(' ')}`,
      '',
      'Findings:',
      ...report.findings.map((f) => `- [${f.severity}] ${f.title}`),
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
    report,
    stored: notImplemented('store-incident-report', 'Not built yet (evidence issue): the report is in the execution output and the email, not yet in the evidence bucket.'),
  };
}
