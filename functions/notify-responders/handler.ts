import { objectReader } from '#shared/clients/s3';
import { snsClient } from '#shared/clients/sns';
import { runtimeConfig } from '#shared/config';
import { incidentPrefix } from '#shared/evidence';
import { stepHandler } from '#shared/handler';
import { NotifyInputSchema } from '#shared/contracts/notification';
import { notifyResponders } from './notify-responders';

export const handler = stepHandler({
  step: 'notify-responders',
  schema: NotifyInputSchema,
  incidentId: (input) => input.incidentId,
  deps: (input) => {
    const config = runtimeConfig();
    return {
      sns: snsClient(),
      respondersTopicArn: config.RESPONDERS_TOPIC_ARN,
      assessment: objectReader(config.EVIDENCE_BUCKET, incidentPrefix(input.incidentId, 'assessment')),
    };
  },
  run: (input, deps) => notifyResponders(input, deps),
});
export { requiredPermissions } from './notify-responders';
