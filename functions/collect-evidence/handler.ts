import { clock, cloudTrailLimiters, objectWriter, ownSessionRecorder, rateTimer, targetClients } from '#shared/clients';
import { sharedMeterPermissions } from '#shared/shared-meter';
import { runtimeConfig } from '#shared/config';
import { EvidenceBundle, evidencePermissions, incidentPrefix } from '#shared/evidence';
import { stepHandler } from '#shared/handler';
import { knownSources } from '#shared/known-sources';
import { CollectInputSchema } from '#shared/contracts/workflow-state';
import { memberRolePermissions, targetFor } from '#shared/target';
import { collectEvidence, requiredPermissions as stepPermissions } from './collect-evidence';

export const handler = stepHandler({
  step: 'collect-evidence',
  schema: CollectInputSchema,
  incidentId: (state) => state.incidentId,
  deps: (state) => {
    const config = runtimeConfig();
    const { target, member } = targetFor(state.accountId, config);
    return {
      clients: targetClients(target),
      // The organization-wide posture is read in organization mode, from the responder's own account.
      ...(config.MODE === 'organization'
        ? {
            organization: {
              responder: targetClients({ accountId: config.RESPONDER_ACCOUNT_ID }),
              managementAccountId: config.RESPONDER_ACCOUNT_ID,
              member,
              recordOwnSession: ownSessionRecorder(config.INCIDENTS_TABLE),
            },
          }
        : {}),
      bundle: new EvidenceBundle(objectWriter(config.EVIDENCE_BUCKET, incidentPrefix(state.incidentId, 'evidence'))),
      limiters: cloudTrailLimiters(config.INCIDENTS_TABLE),
      timer: rateTimer(),
      clock: clock(),
      known: knownSources(config.KNOWN_SOURCE_CIDRS),
      baseline: { alternateContacts: config.EXPECTED_ALTERNATE_CONTACTS, expectedOrganizationId: config.EXPECTED_ORGANIZATION_ID || null },
    };
  },
  run: (state, deps) => collectEvidence(state, deps),
});

/** The reads of the step, writing the evidence bundle, its own AssumeRoot sessions and the shared CloudTrail meter (incidents table). */
export const requiredPermissions = [...stepPermissions, ...memberRolePermissions, ...evidencePermissions, ...sharedMeterPermissions] as const;
