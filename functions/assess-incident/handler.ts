import { objectReader, objectWriter } from '#shared/clients/s3';
import { runtimeConfig } from '#shared/config';
import { EvidenceBundle, incidentPrefix } from '#shared/evidence';
import { stepHandler } from '#shared/handler';
import { AssessInputSchema } from '#shared/contracts/workflow-state';
import { assessIncident } from './assess-incident';

export const handler = stepHandler({
  step: 'assess-incident',
  schema: AssessInputSchema,
  incidentId: (state) => state.incidentId,
  deps: (state) => {
    const config = runtimeConfig();
    const bucket = config.EVIDENCE_BUCKET;
    return {
      denyRootScp: config.DENY_ROOT_SCP,
      evidence: objectReader(bucket, incidentPrefix(state.incidentId, 'evidence')),
      bundle: new EvidenceBundle(objectWriter(bucket, incidentPrefix(state.incidentId, 'assessment'))),
    };
  },
  run: (state, deps) => assessIncident(state, deps),
});
export { requiredPermissions } from './assess-incident';
