import { stepHandler } from '#shared/handler';
import { WorkflowStateSchema } from '#shared/schemas';
import { verifyIncident } from './verify-incident';

export const handler = stepHandler({
  step: 'verify-incident',
  schema: WorkflowStateSchema,
  incidentId: (state) => state.incidentId,
  deps: () => undefined,
  run: (state) => verifyIncident(state),
});
export { requiredPermissions } from './verify-incident';
