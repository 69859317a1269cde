import { stepHandler } from '#shared/handler';
import { TaskItemStateSchema } from '#shared/schemas';
import { runApprovedAction } from './run-approved-action';

export const handler = stepHandler({
  step: 'run-approved-action',
  schema: TaskItemStateSchema,
  incidentId: (state) => state.Payload.input.incidentId,
  deps: () => undefined,
  run: (state) => runApprovedAction(state),
});
export { requiredPermissions } from './run-approved-action';
