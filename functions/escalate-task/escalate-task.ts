import { evidenceReadPermissions } from '#shared/evidence';
import { notifyPermissions, publish } from '#shared/notify';
import type { TaskDetails } from '#shared/plan';
import type { TaskItemState } from '#shared/contracts/task-item';
import type { SnsSender } from '#shared/sns-types';
import { emailText as mail } from '#shared/text';

/** Escalate Overdue Task: out of reminders, tell the escalation contacts. The workflow goes on. */
export const requiredPermissions = [...notifyPermissions, ...evidenceReadPermissions] as const;

export async function escalateTask(
  state: TaskItemState,
  deps: { sns: SnsSender; escalationTopicArn: string; taskDetails: TaskDetails },
): Promise<{ step: string; status: 'done'; taskId: string; reminders: number }> {
  const input = state.Payload.input;
  const task = await deps.taskDetails(input.task.id);
  await publish(deps.sns, deps.escalationTopicArn, {
    subject: `[root-responder] OVERDUE: ${task.title}`,
    subjectSuffix: ` (${input.incidentId})`,
    body: [
      `Incident ${mail(input.incidentId)} in account ${mail(input.accountId)} (severity ${input.severity}) has a task nobody completed after ${input.reminders} reminders:`,
      '',
      `  ${mail(task.title)}`,
      '',
      'Why it matters:',
      ...task.why.map((w) => `- ${mail(w)}`),
      '',
      'The incident stays open with this task overdue. Reach the responders, or do it yourself.',
    ].join('\n'),
    attributes: { severity: input.severity, taskId: input.task.id },
  });
  return { step: 'escalate-task', status: 'done', taskId: input.task.id, reminders: input.reminders };
}
