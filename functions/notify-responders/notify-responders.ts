import type { SNSClient } from '#shared/sns-types';
import { notifyPermissions, publish } from '#shared/notify';
import type { WorkflowState } from '#shared/schemas';
import type { Assessment } from '../assess-incident/assess-incident';

/** Notify Responders: the summary email to the registered responders. Each task follows in its own email. */
export const requiredPermissions = [...notifyPermissions] as const;

export interface NotifyDeps {
  sns: SNSClient;
  respondersTopicArn: string;
}

export function summary(state: WorkflowState, assessment: Assessment): { subject: string; body: string } {
  const t = state.trigger;
  const steps = Object.entries(assessment.steps).map(([name, s]) => `- ${name}: ${s.status}${s.detail ? ` (${s.detail})` : ''}`);
  const tasks = assessment.plan.askWasItYou
    ? ['- First: "Was this root sign-in one of you?" (its own email, with a link). Confirming closes the incident.']
    : assessment.plan.tasks.map((i) => `- ${i.Payload.input.task.title}`);
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
  const assessment = (state as Record<string, unknown>)['assessment'] as { Payload: Assessment };
  const { subject, body } = summary(state, assessment.Payload);
  const messageId = await publish(deps.sns, deps.respondersTopicArn, { subject, body, attributes: { severity: assessment.Payload.severity } });
  return { step: 'notify-responders', status: 'done', messageId: messageId ?? null, tasks: assessment.Payload.plan.tasks.length };
}
