import { stepHandler } from '#shared/handler';
import { WorkflowStateSchema } from '#shared/schemas';
import { snapshotRootCredentials } from './snapshot-root-credentials';

export const handler = stepHandler({
  step: 'snapshot-root-credentials',
  schema: WorkflowStateSchema,
  incidentId: (state) => state.incidentId,
  deps: () => undefined,
  run: (state) => snapshotRootCredentials(state),
});
export { requiredPermissions } from './snapshot-root-credentials';
