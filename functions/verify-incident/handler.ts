import { clock, rateTimer } from '#shared/clients';
import { cloudtrail } from '#shared/clients/cloudtrail';
import { organizations } from '#shared/clients/organizations';
import { cloudTrailLimiters } from '#shared/clients/dynamodb';
import { objectReader, objectWriter } from '#shared/clients/s3';
import { targetClients } from '#shared/clients/target';
import { runtimeConfig } from '#shared/config';
import { EvidenceBundle, evidencePermissions, evidenceReadPermissions, incidentPrefix } from '#shared/evidence';
import { stepHandler } from '#shared/handler';
import { sharedMeterPermissions } from '#shared/shared-meter';
import { knownSources } from '#shared/known-sources';
import { VerifyIncidentInputSchema } from '#shared/contracts/verification';
import { memberRolePermissions, targetFor } from '#shared/target';
import { requiredPermissions as stepPermissions, verifyIncident } from './verify-incident';

export const handler = stepHandler({
  step: 'verify-incident',
  schema: VerifyIncidentInputSchema,
  incidentId: (state) => state.incidentId,
  deps: (state) => {
    const config = runtimeConfig();
    return {
      // The CloudTrail lookups of the incident window, again.
      clients: targetClients(targetFor(state.accountId, config).target, { cloudtrail }),
      firstCollection: objectReader(config.EVIDENCE_BUCKET, incidentPrefix(state.incidentId, 'evidence')),
      bundle: new EvidenceBundle(objectWriter(config.EVIDENCE_BUCKET, incidentPrefix(state.incidentId, 'verification'))),
      limiters: cloudTrailLimiters(config.INCIDENTS_TABLE),
      timer: rateTimer(),
      clock: clock(),
      known: knownSources(config.KNOWN_SOURCE_CIDRS),
      // Organization mode: the organization's accounts are not foreign to a late exposure finding.
      ...(config.MODE === 'organization'
        ? { responder: targetClients({ accountId: config.RESPONDER_ACCOUNT_ID }, { organizations }) }
        : {}),
    };
  },
  run: (state, deps) => verifyIncident(state, deps),
});

/** The lookups, reading the first collection's index, and writing its own bundle. */
export const requiredPermissions = [
  ...stepPermissions,
  ...memberRolePermissions,
  ...evidenceReadPermissions,
  ...evidencePermissions,
  ...sharedMeterPermissions,
] as const;
