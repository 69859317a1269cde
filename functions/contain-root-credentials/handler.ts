import { clock, ownSessionRecorder, rateTimer, targetClients } from '#shared/clients';
import { runtimeConfig } from '#shared/config';
import { stepHandler } from '#shared/handler';
import { incidentStorePermissions } from '#shared/incident-store';
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
      responder: targetClients({ accountId: config.RESPONDER_ACCOUNT_ID }),
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
export const requiredPermissions = [...stepPermissions, ...incidentStorePermissions.recordOwnSession] as const;
