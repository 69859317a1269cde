import { clock } from '#shared/clients';
import { account } from '#shared/clients/account';
import { cloudtrail } from '#shared/clients/cloudtrail';
import { cloudTrailLimiters } from '#shared/clients/dynamodb';
import { ec2 } from '#shared/clients/ec2';
import { guardduty } from '#shared/clients/guardduty';
import { iam } from '#shared/clients/iam';
import { organizations } from '#shared/clients/organizations';
import { objectReader, s3Client } from '#shared/clients/s3';
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
import { taskDetails } from '#shared/plan';
import { TaskItemStateSchema } from '#shared/contracts/task-item';
import { memberRolePermissions, targetFor } from '#shared/target';
import { verifyHumanTask } from './verify-human-task';

export const handler = stepHandler({
  step: 'verify-human-task',
  schema: TaskItemStateSchema,
  incidentId: (state) => state.Payload.input.incidentId,
  deps: async (state) => {
    const config = runtimeConfig();
    const baseline = await readBaseline(config, s3Client());
    return {
      // Root keys and MFA (IAM), the password change and trails (CloudTrail), contacts (Account), the organization.
      clients: targetClients(targetFor(state.Payload.input.accountId, config).target, {
        iam,
        cloudtrail,
        account,
        organizations,
        guardduty,
        ec2,
        s3,
        s3control,
        rds,
        kms,
        lambda,
        ram,
      }),
      // A member's SCPs are read from the responder's own account (management or delegated administrator).
      responder: targetClients({ accountId: config.RESPONDER_ACCOUNT_ID }, { organizations }),
      clock: clock(),
      limiters: cloudTrailLimiters(config.INCIDENTS_TABLE),
      baseline: { alternateContacts: baseline.expectedAlternateContacts, expectedOrganizationId: baseline.expectedOrganizationId },
      taskDetails: taskDetails(objectReader(config.EVIDENCE_BUCKET, incidentPrefix(state.Payload.input.incidentId, 'assessment'))),
    };
  },
  run: (state, deps) => verifyHumanTask(state, deps),
});

import { requiredPermissions as stepPermissions } from './verify-human-task';
import { sharedMeterPermissions } from '#shared/shared-meter';

/** The checks, the baseline, plus the shared CloudTrail meter (incidents table). */
export const requiredPermissions = [
  ...stepPermissions,
  ...memberRolePermissions,
  ...sharedMeterPermissions,
  ...baselinePermissions,
] as const;
