import type { Log } from '#shared/logger';
import type { Reminder, TaskItemState } from '#shared/contracts/task-item';

/**
 * Send Reminder: count the reminder and say why it is needed. The next Request Approval sends a
 * fresh link (the old one dies with its task token), so nothing is mailed here.
 */
export const requiredPermissions = [] as const;

/** Nothing to wait for: answered now, and a throw still reaches the caller as a rejection, as the other steps' do. */
export function sendReminder(state: TaskItemState, deps: { log: Log }): Promise<Reminder> {
  return new Promise((resolve) => resolve(reminder(state, deps)));
}

function reminder(state: TaskItemState, deps: { log: Log }): Reminder {
  const input = state.Payload.input;
  const failedVerification = state.verification?.Payload.reason;
  const reason =
    state.verification !== undefined
      ? `Marked done, but verification did not confirm it${failedVerification ? `: ${failedVerification}` : ''}. The task is open again.`
      : `No decision within ${input.waitSeconds} seconds.`;
  const next = { ...input, reminders: input.reminders + 1, reason };
  deps.log.info('Reminder due', { taskId: input.task.id, reminders: next.reminders, maxReminders: input.maxReminders });
  return { input: next };
}
