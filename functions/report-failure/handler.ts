import { clock } from '#shared/clients';
import { documentClient } from '#shared/clients/dynamodb';
import { snsClient } from '#shared/clients/sns';
import { runtimeConfig } from '#shared/config';
import { stepHandler } from '#shared/handler';
import { IncidentStore } from '#shared/incident-store';
import { ReportFailureInputSchema } from '#shared/contracts/workflow-state';
import { reportFailure } from './report-failure';

export const handler = stepHandler({
  step: 'report-failure',
  schema: ReportFailureInputSchema,
  incidentId: (state) => state.incidentId,
  deps: () => {
    const config = runtimeConfig();
    return {
      store: new IncidentStore(documentClient(), config.INCIDENTS_TABLE),
      sns: snsClient(),
      alertTopicArn: config.ALERT_TOPIC_ARN,
      clock: clock(),
    };
  },
  run: (state, deps) => reportFailure(state, deps),
});
export { requiredPermissions } from './report-failure';
