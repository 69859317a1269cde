import { clock, rateTimer } from '#shared/clients';
import { ownSessionRecorder } from '#shared/clients/dynamodb';
import { iam } from '#shared/clients/iam';
import { sts } from '#shared/clients/sts';
import { targetClients } from '#shared/clients/target';
import { runtimeConfig } from '#shared/config';
import { stepHandler } from '#shared/handler';
import { ownSessionStorePermissions } from '#shared/own-session-store';
import { ContainInputSchema } from '#shared/contracts/workflow-state';
import { targetFor } from '#shared/target';
import { containRootCredentials, requiredPermissions as stepPermissions } from './contain-root-credentials';

export const handler = stepHandler({
  step: 'contain-root-credentials',
  schema: ContainInputSchema,
  incidentId: (state) => state.incidentId,
  deps: (state) => {
    const config = runtimeConfig();
    return {
      // AssumeRoot (STS), then IAM under the root session; ListOrganizationsFeatures with the function's own role.
      responder: targetClients({ accountId: config.RESPONDER_ACCOUNT_ID }, { iam, sts }),
      member: targetFor(state.accountId, config).member,
      region: 'us-east-1',
      clock: clock(),
      timer: rateTimer(),
      recordOwnSession: ownSessionRecorder(config.INCIDENTS_TABLE),
    };
  },
  run: (state, deps) => containRootCredentials(state, deps),
});

/** The step's calls, plus recording its own AssumeRoot session in the incidents table. */
export const requiredPermissions = [...stepPermissions, ...ownSessionStorePermissions.record] as const;
