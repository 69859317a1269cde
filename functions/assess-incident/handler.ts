import { stepHandler } from '#shared/handler';
import { WorkflowStateSchema } from '#shared/schemas';
import { assessIncident } from './assess-incident';

export const handler = stepHandler({
  step: 'assess-incident',
  schema: WorkflowStateSchema,
  incidentId: (state) => state.incidentId,
  deps: () => undefined,
  run: (state) => assessIncident(state),
});
export { requiredPermissions } from './assess-incident';
