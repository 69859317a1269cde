import { cloudTrailLimiters, objectWriter, rateTimer, targetClients } from '#shared/clients';
import { systemClock } from '#shared/clock';
import { runtimeConfig } from '#shared/config';
import { EvidenceBundle, evidencePermissions } from '#shared/evidence';
import { stepHandler } from '#shared/handler';
import { knownSources } from '#shared/known-sources';
import { WorkflowStateSchema } from '#shared/schemas';
import { targetFor } from '#shared/target';
import { collectEvidence, requiredPermissions as stepPermissions } from './collect-evidence';

export const handler = stepHandler({
  step: 'collect-evidence',
  schema: WorkflowStateSchema,
  incidentId: (state) => state.incidentId,
  deps: () => undefined,
  run: (state) => {
    const config = runtimeConfig();
    const { target, member } = targetFor(state.accountId, config);
    return collectEvidence(state, {
      clients: targetClients(target),
      ...(member ? { organization: { responder: targetClients({ accountId: config.RESPONDER_ACCOUNT_ID }) } } : {}),
      bundle: new EvidenceBundle(objectWriter(config.EVIDENCE_BUCKET, `incidents/${state.incidentId}/evidence/`)),
      limiters: cloudTrailLimiters(),
      timer: rateTimer(),
      clock: systemClock,
      known: knownSources(config.KNOWN_SOURCE_CIDRS),
      baseline: { alternateContacts: config.EXPECTED_ALTERNATE_CONTACTS, expectedOrganizationId: config.EXPECTED_ORGANIZATION_ID || null },
    });
  },
});

/** The reads of the step, plus writing the evidence bundle. */
export const requiredPermissions = [...stepPermissions, ...evidencePermissions] as const;
