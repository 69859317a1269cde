import { clock } from '#shared/clients';
import { account } from '#shared/clients/account';
import { cloudtrail } from '#shared/clients/cloudtrail';
import { cloudTrailLimiters, ownSessionRecorder } from '#shared/clients/dynamodb';
import { ec2 } from '#shared/clients/ec2';
import { guardduty } from '#shared/clients/guardduty';
import { iam } from '#shared/clients/iam';
import { organizations } from '#shared/clients/organizations';
import { objectReader, s3Client } from '#shared/clients/s3';
import { sts } from '#shared/clients/sts';
import { kms } from '#shared/clients/kms';
import { lambda } from '#shared/clients/lambda';
import { ram } from '#shared/clients/ram';
import { rds } from '#shared/clients/rds';
import { s3control } from '#shared/clients/s3control';
import { s3 } from '#shared/clients/target-s3';
import { targetClients } from '#shared/clients/target';
import { baselinePermissions, readBaseline } from '#shared/baseline';
import { runtimeConfig } from '#shared/config';
import { incidentPrefix } from '#shared/evidence';
import { stepHandler } from '#shared/handler';
import { ownSessionStorePermissions } from '#shared/own-session-store';
import { sharedMeterPermissions } from '#shared/shared-meter';
import { taskDetails } from '#shared/plan';
import { TaskItemStateSchema } from '#shared/contracts/task-item';
import { memberRolePermissions, targetFor } from '#shared/target';
import { requiredPermissions as stepPermissions, runApprovedAction } from './run-approved-action';

export const handler = stepHandler({
  step: 'run-approved-action',
  schema: TaskItemStateSchema,
  incidentId: (state) => state.Payload.input.incidentId,
  deps: async (state) => {
    const config = runtimeConfig();
    const baseline = await readBaseline(config, s3Client());
    const { target, member } = targetFor(state.Payload.input.accountId, config, 'write');
    return {
      // Quarantine IAM users, restore contacts and trust policies, restart trails, re-enable GuardDuty, undo exposures.
      clients: targetClients(target, { iam, account, cloudtrail, guardduty, ec2, s3, s3control, rds, kms, lambda, ram }),
      // The root-session remediations of member accounts (AssumeRoot, then IAM under the session), and SCPs (Organizations).
      responder: targetClients({ accountId: config.RESPONDER_ACCOUNT_ID }, { iam, sts, organizations }),
      member,
      clock: clock(),
      baseline: { alternateContacts: baseline.expectedAlternateContacts },
      recordOwnSession: ownSessionRecorder(config.INCIDENTS_TABLE),
      limiters: cloudTrailLimiters(config.INCIDENTS_TABLE),
      taskDetails: taskDetails(objectReader(config.EVIDENCE_BUCKET, incidentPrefix(state.Payload.input.incidentId, 'assessment'))),
    };
  },
  run: (state, deps) => runApprovedAction(state, deps),
});

/** The remediations (the baseline: the contacts to restore), plus recording its own AssumeRoot sessions and the shared CloudTrail meter (incidents table). */
export const requiredPermissions = [
  ...stepPermissions,
  ...memberRolePermissions,
  ...ownSessionStorePermissions.record,
  ...sharedMeterPermissions,
  ...baselinePermissions,
] as const;
