import { clock, objectReader, ownSessionRecorder, targetClients } from '#shared/clients';
import { runtimeConfig } from '#shared/config';
import { incidentPrefix } from '#shared/evidence';
import { stepHandler } from '#shared/handler';
import { incidentStorePermissions } from '#shared/incident-store';
import { taskDetails } from '#shared/plan';
import { TaskItemStateSchema } from '#shared/contracts/task-item';
import { memberRolePermissions, targetFor } from '#shared/target';
import { requiredPermissions as stepPermissions, runApprovedAction } from './run-approved-action';

export const handler = stepHandler({
  step: 'run-approved-action',
  schema: TaskItemStateSchema,
  incidentId: (state) => state.Payload.input.incidentId,
  deps: (state) => {
    const config = runtimeConfig();
    const { target, member } = targetFor(state.Payload.input.accountId, config, 'write');
    return {
      clients: targetClients(target),
      responder: targetClients({ accountId: config.RESPONDER_ACCOUNT_ID }),
      member,
      clock: clock(),
      baseline: { alternateContacts: config.EXPECTED_ALTERNATE_CONTACTS },
      recordOwnSession: ownSessionRecorder(config.INCIDENTS_TABLE),
      taskDetails: taskDetails(objectReader(config.EVIDENCE_BUCKET, incidentPrefix(state.Payload.input.incidentId, 'assessment'))),
    };
  },
  run: (state, deps) => runApprovedAction(state, deps),
});

/** The remediations, plus recording its own AssumeRoot sessions. */
export const requiredPermissions = [...stepPermissions, ...memberRolePermissions, ...incidentStorePermissions.recordOwnSession] as const;
