import { objectReader } from '#shared/clients/s3';
import { snsClient } from '#shared/clients/sns';
import { runtimeConfig } from '#shared/config';
import { incidentPrefix } from '#shared/evidence';
import { stepHandler } from '#shared/handler';
import { taskDetails } from '#shared/plan';
import { TaskItemStateSchema } from '#shared/contracts/task-item';
import { escalateTask } from './escalate-task';

export const handler = stepHandler({
  step: 'escalate-task',
  schema: TaskItemStateSchema,
  incidentId: (state) => state.Payload.input.incidentId,
  deps: (state) => {
    const config = runtimeConfig();
    return {
      sns: snsClient(),
      escalationTopicArn: config.ESCALATION_TOPIC_ARN,
      taskDetails: taskDetails(objectReader(config.EVIDENCE_BUCKET, incidentPrefix(state.Payload.input.incidentId, 'assessment'))),
    };
  },
  run: (state, deps) => escalateTask(state, deps),
});
export { requiredPermissions } from './escalate-task';
