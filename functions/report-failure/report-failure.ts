import type { Clock } from '#shared/clock';
import { InvalidEventError } from '#shared/errors';
import { type IncidentStore, incidentStorePermissions } from '#shared/incident-store';
import type { Log } from '#shared/logger';
import { notifyPermissions, publish } from '#shared/notify';
import { ExecutionInputSchema } from '#shared/contracts/execution-input';
import { ENDED_WITHOUT_REPORT, type ExecutionStatusChange } from '#shared/contracts/execution-status-change';
import type { ReportFailureInput, WorkflowState } from '#shared/contracts/workflow-state';
import type { SnsSender } from '#shared/sns-types';
import { emailText as mail } from '#shared/text';

/**
 * Report Failure: the workflow could not finish. Tell the responders what ran, what did not and
 * why, and end the incident as `failed` (the account is released: a later root event opens a new
 * incident). Two ways in:
 * - the state machine's Catch (the workflow state: what ran is known);
 * - EventBridge's "Step Functions Execution Status Change" for an execution that ended FAILED,
 *   TIMED_OUT or ABORTED (a stop, a time-out, an error no Catch saw). The execution input may be
 *   missing from the event: the incident is then found by the execution's name (the incident id).
 *   An incident that already ended (the Catch path ran first) is left alone and nobody is emailed twice.
 */
export const requiredPermissions = [
  ...new Set([...incidentStorePermissions.read, ...incidentStorePermissions.close, ...notifyPermissions]),
] as const;

export interface ReportFailureDeps {
  store: IncidentStore;
  sns: SnsSender;
  alertTopicArn: string;
  clock: Clock;
  /** This stage's state machine: a status change of any other is refused. */
  stateMachineArn?: string;
  log?: Log;
}

const STAGES: [key: keyof WorkflowState, label: string][] = [
  ['snapshot', 'Snapshot Root Credentials'],
  ['containAndCollect', 'Contain And Collect Evidence'],
  ['assessment', 'Assess Incident'],
  ['notification', 'Notify Responders'],
  ['gate', 'Ask Whether The Sign-In Was Expected'],
  ['humanTasks', 'Run Human Tasks'],
  ['verification', 'Verify Incident'],
  ['report', 'Write Incident Report'],
];

const BY_HAND =
  'Follow the runbook by hand for every step that did not run: delete root access keys, change the root password, re-enable root MFA, check the alternate contacts, billing and organization membership, and review every root API call since the incident started.';

export interface FailureReported {
  step: string;
  status: 'done';
  incidentStatus: 'failed';
  error: string;
  ran: string[];
  notRun: string[];
}

export async function reportFailure(state: ReportFailureInput, deps: ReportFailureDeps): Promise<FailureReported> {
  const error = state.failure?.Error ?? 'unknown error';
  const cause = state.failure?.Cause?.slice(0, 1000) ?? '';
  const ran = STAGES.filter(([key]) => state[key] !== undefined).map(([, label]) => label);
  const notRun = STAGES.filter(([key]) => state[key] === undefined).map(([, label]) => label);
  await deps.store.close(state.accountId, state.incidentId, 'failed', deps.clock.now().toISOString(), {
    closedBy: 'report-failure',
    reason: `The workflow stopped: ${error}`.slice(0, 500),
  });
  await publish(deps.sns, deps.alertTopicArn, {
    subject: `[root-responder] FAILED: response to incident ${state.incidentId}`,
    body: [
      `The automated response to incident ${mail(state.incidentId)} (account ${mail(state.accountId)}) stopped: ${mail(error)}.`,
      cause ? `Cause: ${mail(cause)}` : '',
      '',
      `Ran: ${ran.join(', ') || 'nothing'}.`,
      `Did not run: ${notRun.join(', ') || 'nothing'}.`,
      '',
      BY_HAND,
    ].join('\n'),
    attributes: { severity: 'critical' },
  });
  return { step: 'report-failure', status: 'done', incidentStatus: 'failed', error, ran, notRun };
}

export type ExecutionEndedResult =
  | { step: 'report-failure'; status: 'done'; outcome: 'closed'; incidentId: string; accountId: string; executionStatus: string }
  | {
      step: 'report-failure';
      status: 'done';
      outcome: 'already-ended';
      incidentId: string;
      incidentStatus: string;
      executionStatus: string;
    }
  | { step: 'report-failure'; status: 'done'; outcome: 'unidentified'; incidentId: string; executionStatus: string }
  | { step: 'report-failure'; status: 'done'; outcome: 'ignored'; reason: string };

/** The execution input from the event, when it is there and whole (AWS leaves out one too large for the event). */
function inputOf(detail: ExecutionStatusChange['detail']): { incidentId: string; accountId: string } | undefined {
  if (typeof detail.input !== 'string' || detail.input.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(detail.input);
  } catch {
    return undefined; // cut short or not JSON: fall back on the execution's name
  }
  const input = ExecutionInputSchema.safeParse(parsed);
  return input.success ? { incidentId: input.data.incidentId, accountId: input.data.accountId } : undefined;
}

/**
 * An execution of this state machine ended FAILED, TIMED_OUT or ABORTED (EventBridge). End its
 * incident as `failed` and tell the responders, unless the incident already ended. Fails safe: an
 * event for another state machine is refused (InvalidEventError), a status that is not an end
 * without a report changes nothing, and an execution whose incident cannot be found is still
 * reported to the responders (nothing is closed).
 */
export async function reportExecutionEnded(event: ExecutionStatusChange, deps: ReportFailureDeps): Promise<ExecutionEndedResult> {
  const detail = event.detail;
  if (deps.stateMachineArn && detail.stateMachineArn !== deps.stateMachineArn) {
    throw new InvalidEventError('Execution status change for another state machine: nothing is closed', [
      `stateMachineArn: ${detail.stateMachineArn.slice(0, 200)}`,
    ]);
  }
  const executionStatus = detail.status;
  if (!(ENDED_WITHOUT_REPORT as readonly string[]).includes(executionStatus)) {
    return {
      step: 'report-failure',
      status: 'done',
      outcome: 'ignored',
      reason: `status ${executionStatus.slice(0, 40)} is not an end without a report`,
    };
  }
  const fromInput = inputOf(detail);
  // Intake names each execution after its incident.
  const incidentId = fromInput?.incidentId ?? detail.name;
  const meta = await deps.store.meta(incidentId);
  const accountId = fromInput?.accountId ?? meta?.accountId;
  const when = typeof detail.stopDate === 'number' ? new Date(detail.stopDate).toISOString() : deps.clock.now().toISOString();
  const why = [detail.error, detail.cause]
    .filter((x): x is string => typeof x === 'string' && x.length > 0)
    .join(': ')
    .slice(0, 1000);
  if (meta && meta.status !== 'open') {
    deps.log?.info('Execution ended after its incident had ended; nothing to do', {
      incidentId,
      executionStatus,
      incidentStatus: meta.status,
    });
    return { step: 'report-failure', status: 'done', outcome: 'already-ended', incidentId, incidentStatus: meta.status, executionStatus };
  }
  const lines = [
    `The execution ${detail.executionArn} ended ${executionStatus} at ${when}${why ? `: ${why}` : ''}.`,
    '',
    'What ran and what did not is in its execution history (Step Functions console, or aws stepfunctions get-execution-history).',
    '',
    BY_HAND,
  ];
  if (!accountId) {
    deps.log?.warn('Execution ended, but no incident of that name is recorded', { incidentId, executionStatus });
    await publish(deps.sns, deps.alertTopicArn, {
      subject: `[root-responder] FAILED: execution ${detail.name} ended ${executionStatus}`,
      body: [
        `No incident named ${incidentId} is recorded, so none was closed; find the account in the execution's input.`,
        '',
        ...lines,
      ].join('\n'),
      attributes: { severity: 'critical' },
    });
    return { step: 'report-failure', status: 'done', outcome: 'unidentified', incidentId, executionStatus };
  }
  const ended = await deps.store.close(accountId, incidentId, 'failed', when, {
    closedBy: 'report-failure',
    reason: `The execution ended ${executionStatus}${why ? `: ${why}` : ''}`.slice(0, 500),
  });
  if (!ended) {
    // Ended meanwhile (the Catch path, or a person): they said what there was to say.
    return { step: 'report-failure', status: 'done', outcome: 'already-ended', incidentId, incidentStatus: 'ended', executionStatus };
  }
  await publish(deps.sns, deps.alertTopicArn, {
    subject: `[root-responder] FAILED: response to incident ${incidentId}`,
    body: [`The automated response to incident ${incidentId} (account ${accountId}) did not finish.`, ...lines].join('\n'),
    attributes: { severity: 'critical' },
  });
  return { step: 'report-failure', status: 'done', outcome: 'closed', incidentId, accountId, executionStatus };
}
