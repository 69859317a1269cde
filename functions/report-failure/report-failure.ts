import type { Clock } from '#shared/clock';
import { type IncidentStore, incidentStorePermissions } from '#shared/incident-store';
import { notifyPermissions, publish } from '#shared/notify';
import type { ReportFailureInput, WorkflowState } from '#shared/contracts/workflow-state';
import type { SnsSender } from '#shared/sns-types';
import { emailText as mail } from '#shared/text';

/**
 * Report Failure: the workflow could not finish. Tell the responders what ran, what did not and
 * why, and mark the incident failed (a later root event then opens a new one).
 */
export const requiredPermissions = [...incidentStorePermissions.close, ...notifyPermissions] as const;

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

export async function reportFailure(
  state: ReportFailureInput,
  deps: { store: IncidentStore; sns: SnsSender; alertTopicArn: string; clock: Clock },
): Promise<{ step: string; status: 'done'; incidentStatus: 'failed'; error: string; ran: string[]; notRun: string[] }> {
  const error = state.failure?.Error ?? 'unknown error';
  const cause = state.failure?.Cause?.slice(0, 1000) ?? '';
  const ran = STAGES.filter(([key]) => state[key] !== undefined).map(([, label]) => label);
  const notRun = STAGES.filter(([key]) => state[key] === undefined).map(([, label]) => label);
  await deps.store.close(state.accountId, state.incidentId, 'failed', deps.clock.now().toISOString());
  await publish(deps.sns, deps.alertTopicArn, {
    subject: `[root-responder] FAILED: response to incident ${state.incidentId}`,
    body: [
      `The automated response to incident ${mail(state.incidentId)} (account ${mail(state.accountId)}) stopped: ${mail(error)}.`,
      cause ? `Cause: ${mail(cause)}` : '',
      '',
      `Ran: ${ran.join(', ') || 'nothing'}.`,
      `Did not run: ${notRun.join(', ') || 'nothing'}.`,
      '',
      'Follow the runbook by hand for every step that did not run: delete root access keys, change the root password, re-enable root MFA, check the alternate contacts, billing and organization membership, and review every root API call since the incident started.',
    ].join('\n'),
    attributes: { severity: 'critical' },
  });
  return { step: 'report-failure', status: 'done', incidentStatus: 'failed', error, ran, notRun };
}
