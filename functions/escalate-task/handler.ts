import { snsClient } from '#shared/clients';
import { runtimeConfig } from '#shared/config';
import { stepHandler } from '#shared/handler';
import { TaskItemStateSchema } from '#shared/schemas';
import { escalateTask } from './escalate-task';

export const handler = stepHandler({
  step: 'escalate-task',
  schema: TaskItemStateSchema,
  incidentId: (state) => state.Payload.input.incidentId,
  deps: () => ({ sns: snsClient(), escalationTopicArn: runtimeConfig().ESCALATION_TOPIC_ARN }),
  run: (state, deps) => escalateTask(state, deps),
});
export { requiredPermissions } from './escalate-task';
