import { clock, cloudTrailLimiters, objectReader, targetClients } from '#shared/clients';
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
  deps: (state) => {
    const config = runtimeConfig();
    return {
      clients: targetClients(targetFor(state.Payload.input.accountId, config).target),
      clock: clock(),
      limiters: cloudTrailLimiters(config.INCIDENTS_TABLE),
      baseline: { alternateContacts: config.EXPECTED_ALTERNATE_CONTACTS, expectedOrganizationId: config.EXPECTED_ORGANIZATION_ID || null },
      taskDetails: taskDetails(objectReader(config.EVIDENCE_BUCKET, incidentPrefix(state.Payload.input.incidentId, 'assessment'))),
    };
  },
  run: (state, deps) => verifyHumanTask(state, deps),
});

import { requiredPermissions as stepPermissions } from './verify-human-task';
import { sharedMeterPermissions } from '#shared/shared-meter';

/** The checks, plus the shared CloudTrail meter (incidents table). */
export const requiredPermissions = [...stepPermissions, ...memberRolePermissions, ...sharedMeterPermissions] as const;
