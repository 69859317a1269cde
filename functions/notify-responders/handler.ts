import { z } from 'zod';
import { snsClient } from '#shared/clients';
import { runtimeConfig } from '#shared/config';
import { stepHandler } from '#shared/handler';
import { WorkflowStateSchema } from '#shared/schemas';
import { notifyResponders } from './notify-responders';

const InputSchema = WorkflowStateSchema.extend({ assessment: z.object({ Payload: z.looseObject({ severity: z.string(), plan: z.looseObject({}) }) }) });

export const handler = stepHandler({
  step: 'notify-responders',
  schema: InputSchema,
  incidentId: (state) => state.incidentId,
  deps: () => ({ sns: snsClient(), respondersTopicArn: runtimeConfig().RESPONDERS_TOPIC_ARN }),
  run: (state, deps) => notifyResponders(state, deps),
});
export { requiredPermissions } from './notify-responders';
