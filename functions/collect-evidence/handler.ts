import { clock, rateTimer } from '#shared/clients';
import { account } from '#shared/clients/account';
import { cloudtrail } from '#shared/clients/cloudtrail';
import { cloudTrailLimiters, ownSessionRecorder } from '#shared/clients/dynamodb';
import { guardduty } from '#shared/clients/guardduty';
import { iam } from '#shared/clients/iam';
import { organizations } from '#shared/clients/organizations';
import { objectReader, objectWriter, s3Client } from '#shared/clients/s3';
import { sts } from '#shared/clients/sts';
import { targetClients } from '#shared/clients/target';
import { sharedMeterPermissions } from '#shared/shared-meter';
import { baselinePermissions, readBaseline } from '#shared/baseline';
import { runtimeConfig } from '#shared/config';
import { EvidenceBundle, evidencePermissions, evidenceReadPermissions, incidentPrefix } from '#shared/evidence';
import { stepHandler } from '#shared/handler';
import { knownSources } from '#shared/known-sources';
import { CollectInputSchema } from '#shared/contracts/workflow-state';
import { memberRolePermissions, targetFor } from '#shared/target';
import { collectEvidence, requiredPermissions as stepPermissions } from './collect-evidence';

export const handler = stepHandler({
  step: 'collect-evidence',
  schema: CollectInputSchema,
  incidentId: (state) => state.incidentId,
  deps: async (state) => {
    const config = runtimeConfig();
    const baseline = await readBaseline(config, s3Client());
    const { target, member } = targetFor(state.accountId, config);
    return {
      // Regions, contacts, account information, organization, GuardDuty detectors, trails and the CloudTrail review.
      clients: targetClients(target, { account, organizations, guardduty, cloudtrail }),
      // The organization-wide posture is read in organization mode, from the responder's own account.
      ...(config.MODE === 'organization'
        ? {
            organization: {
              // The member account as the organization sees it, and every member's root access (AssumeRoot audit sessions).
              responder: targetClients({ accountId: config.RESPONDER_ACCOUNT_ID }, { iam, sts, organizations, account }),
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
      baseline: { alternateContacts: baseline.expectedAlternateContacts, expectedOrganizationId: baseline.expectedOrganizationId },
      // The previous incident's responders' root work is theirs, not this incident's attacker's.
      ...(state.previousIncidentId
        ? { previousVerification: objectReader(config.EVIDENCE_BUCKET, incidentPrefix(state.previousIncidentId, 'verification')) }
        : {}),
    };
  },
  run: (state, deps) => collectEvidence(state, deps),
});

/** The reads of the step, writing the evidence bundle, its own AssumeRoot sessions and the shared CloudTrail meter (incidents table). */
export const requiredPermissions = [
  ...stepPermissions,
  ...memberRolePermissions,
  ...evidencePermissions,
  ...evidenceReadPermissions,
  ...sharedMeterPermissions,
  ...baselinePermissions,
] as const;
