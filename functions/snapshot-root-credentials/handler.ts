import { clock, ownSessionRecorder, targetClients } from '#shared/clients';
import { runtimeConfig } from '#shared/config';
import { stepHandler } from '#shared/handler';
import { incidentStorePermissions } from '#shared/incident-store';
import { SnapshotInputSchema } from '#shared/contracts/workflow-state';
import { memberRolePermissions, targetFor } from '#shared/target';
import { requiredPermissions as stepPermissions, snapshotRootCredentials } from './snapshot-root-credentials';

export const handler = stepHandler({
  step: 'snapshot-root-credentials',
  schema: SnapshotInputSchema,
  incidentId: (state) => state.incidentId,
  deps: (state) => {
    const config = runtimeConfig();
    const { target, member } = targetFor(state.accountId, config);
    return {
      clients: targetClients(target),
      responder: targetClients({ accountId: config.RESPONDER_ACCOUNT_ID }),
      useAssumeRoot: member,
      region: 'us-east-1',
      clock: clock(),
      recordOwnSession: ownSessionRecorder(config.INCIDENTS_TABLE),
      ...(config.EXPECTED_ROOT_MFA_DEVICES[state.accountId] ? { expectedMfaDevices: config.EXPECTED_ROOT_MFA_DEVICES[state.accountId] } : {}),
    };
  },
  run: (state, deps) => snapshotRootCredentials(state, deps),
});

/** The step's reads, plus recording its own AssumeRoot session in the incidents table. */
export const requiredPermissions = [...stepPermissions, ...memberRolePermissions, ...incidentStorePermissions.recordOwnSession] as const;
