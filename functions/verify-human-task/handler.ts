import { stepHandler } from '#shared/handler';
import { TaskItemStateSchema } from '#shared/schemas';
import { verifyHumanTask } from './verify-human-task';

export const handler = stepHandler({
  step: 'verify-human-task',
  schema: TaskItemStateSchema,
  incidentId: (state) => state.Payload.input.incidentId,
  deps: () => undefined,
  run: (state) => verifyHumanTask(state),
});
export { requiredPermissions } from './verify-human-task';
