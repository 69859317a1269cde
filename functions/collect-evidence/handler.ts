import { stepHandler } from '#shared/handler';
import { WorkflowStateSchema } from '#shared/schemas';
import { collectEvidence } from './collect-evidence';

export const handler = stepHandler({
  step: 'collect-evidence',
  schema: WorkflowStateSchema,
  incidentId: (state) => state.incidentId,
  deps: () => undefined,
  run: (state) => collectEvidence(state),
});
export { requiredPermissions } from './collect-evidence';
