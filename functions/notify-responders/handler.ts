import { z } from 'zod';
import { objectReader, snsClient } from '#shared/clients';
import { runtimeConfig } from '#shared/config';
import { incidentPrefix } from '#shared/evidence';
import { stepHandler } from '#shared/handler';
import { WorkflowStateSchema } from '#shared/schemas';
import { notifyResponders } from './notify-responders';

const InputSchema = WorkflowStateSchema.extend({ assessment: z.object({ Payload: z.looseObject({ severity: z.string(), steps: z.looseObject({}), counts: z.looseObject({ tasks: z.number() }) }) }) });

export const handler = stepHandler({
  step: 'notify-responders',
  schema: InputSchema,
  incidentId: (state) => state.incidentId,
  deps: () => undefined,
  run: (state) => {
    const config = runtimeConfig();
    return notifyResponders(state, { sns: snsClient(), respondersTopicArn: config.RESPONDERS_TOPIC_ARN, assessment: objectReader(config.EVIDENCE_BUCKET, incidentPrefix(state.incidentId, 'assessment')) });
  },
});
export { requiredPermissions } from './notify-responders';
