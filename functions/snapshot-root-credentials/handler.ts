import { clock } from '#shared/clients';
import { ownSessionRecorder } from '#shared/clients/dynamodb';
import { iam } from '#shared/clients/iam';
import { sts } from '#shared/clients/sts';
import { targetClients } from '#shared/clients/target';
import { s3Client } from '#shared/clients/s3';
import { baselinePermissions, readBaseline } from '#shared/baseline';
import { runtimeConfig } from '#shared/config';
import { stepHandler } from '#shared/handler';
import { ownSessionStorePermissions } from '#shared/own-session-store';
import { SnapshotInputSchema } from '#shared/contracts/workflow-state';
import { memberRolePermissions, targetFor } from '#shared/target';
import { requiredPermissions as stepPermissions, snapshotRootCredentials } from './snapshot-root-credentials';

export const handler = stepHandler({
  step: 'snapshot-root-credentials',
  schema: SnapshotInputSchema,
  incidentId: (state) => state.incidentId,
  deps: async (state) => {
    const config = runtimeConfig();
    const baseline = await readBaseline(config, s3Client());
    const { target, member } = targetFor(state.accountId, config);
    return {
      // GetAccountSummary and the root's virtual MFA devices.
      clients: targetClients(target, { iam }),
      // In member accounts: an AssumeRoot audit session (STS), then IAM under it.
      responder: targetClients({ accountId: config.RESPONDER_ACCOUNT_ID }, { iam, sts }),
      useAssumeRoot: member,
      region: 'us-east-1',
      clock: clock(),
      recordOwnSession: ownSessionRecorder(config.INCIDENTS_TABLE),
      ...(baseline.expectedRootMfaDevices[state.accountId] ? { expectedMfaDevices: baseline.expectedRootMfaDevices[state.accountId] } : {}),
    };
  },
  run: (state, deps) => snapshotRootCredentials(state, deps),
});

/** The step's reads, the baseline, plus recording its own AssumeRoot session in the incidents table. */
export const requiredPermissions = [
  ...stepPermissions,
  ...memberRolePermissions,
  ...ownSessionStorePermissions.record,
  ...baselinePermissions,
] as const;
