import { z } from 'zod';
import { clock } from '#shared/clients';
import { documentClient } from '#shared/clients/dynamodb';
import { snsClient } from '#shared/clients/sns';
import { runtimeConfig } from '#shared/config';
import { stepHandler } from '#shared/handler';
import { IncidentStore } from '#shared/incident-store';
import { logger } from '#shared/logger';
import { ExecutionStatusChangeSchema } from '#shared/contracts/execution-status-change';
import { ReportFailureInputSchema } from '#shared/contracts/workflow-state';
import { type ExecutionEndedResult, type FailureReported, reportExecutionEnded, reportFailure } from './report-failure';

/** The state machine's Catch (the workflow state), or EventBridge's execution status change (an execution that ended FAILED, TIMED_OUT or ABORTED). */
const ReportFailureEventSchema = z.union([ExecutionStatusChangeSchema, ReportFailureInputSchema]);
type ReportFailureEvent = z.infer<typeof ReportFailureEventSchema>;
type StatusChange = z.infer<typeof ExecutionStatusChangeSchema>;

const isStatusChange = (input: ReportFailureEvent): input is StatusChange => 'detail' in input && input.source === 'aws.states';

export const handler = stepHandler({
  step: 'report-failure',
  schema: ReportFailureEventSchema,
  incidentId: (input) => (isStatusChange(input) ? input.detail.name : (input as { incidentId: string }).incidentId),
  deps: () => {
    const config = runtimeConfig();
    return {
      store: new IncidentStore(documentClient(), config.INCIDENTS_TABLE),
      sns: snsClient(),
      alertTopicArn: config.ALERT_TOPIC_ARN,
      stateMachineArn: config.STATE_MACHINE_ARN,
      clock: clock(),
      log: logger,
    };
  },
  run: (input, deps): Promise<FailureReported | ExecutionEndedResult> =>
    isStatusChange(input) ? reportExecutionEnded(input, deps) : reportFailure(input, deps),
});
export { requiredPermissions } from './report-failure';
