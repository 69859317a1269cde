import { ApprovalStore } from '#shared/approval-store';
import { clock } from '#shared/clients';
import { documentClient } from '#shared/clients/dynamodb';
import { objectReader } from '#shared/clients/s3';
import { snsClient } from '#shared/clients/sns';
import { runtimeConfig } from '#shared/config';
import { incidentPrefix } from '#shared/evidence';
import { stepHandler } from '#shared/handler';
import { taskDetails } from '#shared/plan';
import { ApprovalRequestSchema } from '#shared/contracts/task-item';
import { requestApproval } from './request-approval';

export const handler = stepHandler({
  step: 'request-approval',
  schema: ApprovalRequestSchema,
  incidentId: (request) => request.input.incidentId,
  deps: (request) => {
    const config = runtimeConfig();
    return {
      approvals: new ApprovalStore(documentClient(), config.APPROVALS_TABLE),
      sns: snsClient(),
      respondersTopicArn: config.RESPONDERS_TOPIC_ARN,
      approvalsBaseUrl: config.APPROVALS_BASE_URL,
      expiryHours: config.APPROVAL_EXPIRY_HOURS,
      clock: clock(),
      taskDetails: taskDetails(objectReader(config.EVIDENCE_BUCKET, incidentPrefix(request.input.incidentId, 'assessment'))),
    };
  },
  run: (request, deps) => requestApproval(request, deps),
});
export { requiredPermissions } from './request-approval';
