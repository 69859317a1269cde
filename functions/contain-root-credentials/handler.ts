import { stepHandler } from '#shared/handler';
import { WorkflowStateSchema } from '#shared/schemas';
import { containRootCredentials } from './contain-root-credentials';

export const handler = stepHandler({
  step: 'contain-root-credentials',
  schema: WorkflowStateSchema,
  incidentId: (state) => state.incidentId,
  deps: () => undefined,
  run: (state) => containRootCredentials(state),
});
export { requiredPermissions } from './contain-root-credentials';
