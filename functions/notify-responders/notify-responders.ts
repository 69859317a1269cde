import type { SNSClient } from '#shared/sns-types';
import { evidenceReadPermissions, type ObjectReader } from '#shared/evidence';
import { notifyPermissions, publish } from '#shared/notify';
import { readPlan } from '#shared/plan';
import type { StoredPlan, WorkflowState } from '#shared/schemas';
import type { AssessmentSummary } from '../assess-incident/assess-incident';

/**
 * Notify Responders: the summary email to the registered responders. Each task follows in its own
 * email. The tasks' titles are read from the assessment's plan.json (the state carries their ids).
 */
export const requiredPermissions = [...notifyPermissions, ...evidenceReadPermissions] as const;

export interface NotifyDeps {
  sns: SNSClient;
  respondersTopicArn: string;
  /** The assessment folder (plan.json). */
  assessment: ObjectReader;
}

export function summary(state: WorkflowState, assessment: Pick<AssessmentSummary, 'severity' | 'steps'>, plan: StoredPlan): { subject: string; body: string } {
  const t = state.trigger;
  const steps = Object.entries(assessment.steps).map(([name, s]) => `- ${name}: ${s.status}${s.detail ? ` (${s.detail})` : ''}`);
  const tasks = plan.askWasItYou
    ? ['- First: "Was this root sign-in one of you?" (its own email, with a link). Confirming closes the incident.']
    : plan.tasks.map((task) => `- ${task.title}`);
  return {
    subject: `[root-responder] ${assessment.severity.toUpperCase()} incident ${state.incidentId}`,
    body: [
      `What happened: ${t.reasons.join(' ')}`,
      `Account ${state.accountId}, ${state.region}; first event ${t.eventName || 'unknown'} at ${t.eventTime ?? 'an unrecorded time'}.`,
      '',
      'What was done automatically:',
      ...steps,
      '',
      'What you must do now (each arrives as its own email with an approval link; links expire and work once):',
      ...tasks,
    ].join('\n'),
  };
}

export async function notifyResponders(state: WorkflowState, deps: NotifyDeps): Promise<{ step: string; status: 'done'; messageId: string | null; tasks: number }> {
  const assessment = ((state as Record<string, unknown>)['assessment'] as { Payload: AssessmentSummary }).Payload;
  const plan = await readPlan(deps.assessment);
  const { subject, body } = summary(state, assessment, plan);
  const messageId = await publish(deps.sns, deps.respondersTopicArn, { subject, body, attributes: { severity: assessment.severity } });
  return { step: 'notify-responders', status: 'done', messageId: messageId ?? null, tasks: assessment.counts.tasks };
}
