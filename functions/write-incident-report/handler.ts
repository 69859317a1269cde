import { clock } from '#shared/clients';
import { documentClient } from '#shared/clients/dynamodb';
import { organizations } from '#shared/clients/organizations';
import { objectReader, objectWriter } from '#shared/clients/s3';
import { targetClients } from '#shared/clients/target';
import { snsClient } from '#shared/clients/sns';
import { runtimeConfig } from '#shared/config';
import { incidentPrefix } from '#shared/evidence';
import { stepHandler } from '#shared/handler';
import { IncidentStore } from '#shared/incident-store';
import { ReportInputSchema } from '#shared/contracts/workflow-state';
import { writeIncidentReport } from './write-incident-report';

export const handler = stepHandler({
  step: 'write-incident-report',
  schema: ReportInputSchema,
  incidentId: (state) => state.incidentId,
  deps: () => {
    const config = runtimeConfig();
    return {
      store: new IncidentStore(documentClient(), config.INCIDENTS_TABLE),
      sns: snsClient(),
      respondersTopicArn: config.RESPONDERS_TOPIC_ARN,
      clock: clock(),
      mode: config.MODE,
      responderAccountId: config.RESPONDER_ACCOUNT_ID,
      // The deny-root SCP is detached from the responder's own account (management or delegated administrator).
      responder: targetClients({ accountId: config.RESPONDER_ACCOUNT_ID }, { organizations }),
    };
  },
  run: (state, deps) => {
    const bucket = runtimeConfig().EVIDENCE_BUCKET;
    return writeIncidentReport(state, {
      ...deps,
      writer: objectWriter(bucket, incidentPrefix(state.incidentId)),
      reader: objectReader(bucket, incidentPrefix(state.incidentId)),
    });
  },
});
export { requiredPermissions } from './write-incident-report';
