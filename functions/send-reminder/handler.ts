import { stepHandler } from '#shared/handler';
import { logger } from '#shared/logger';
import { TaskItemStateSchema } from '#shared/contracts/task-item';
import { sendReminder } from './send-reminder';

export const handler = stepHandler({
  step: 'send-reminder',
  schema: TaskItemStateSchema,
  incidentId: (state) => state.Payload.input.incidentId,
  deps: () => ({ log: logger }),
  run: (state, deps) => sendReminder(state, deps),
});
export { requiredPermissions } from './send-reminder';
