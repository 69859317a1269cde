import { notImplemented, type NotImplemented } from '#shared/not-implemented';
import type { WorkflowState } from '#shared/schemas';

/** Snapshot Root Credentials: root keys, certificates, MFA devices, password, before anything changes. */
export const requiredPermissions = [] as const;

export async function snapshotRootCredentials(state: WorkflowState): Promise<NotImplemented & { accountId: string }> {
  return {
    ...notImplemented(
      'snapshot-root-credentials',
      'Not built yet (evidence issue): GetAccountSummary + ListVirtualMFADevices, or an AssumeRoot audit session in member accounts. Root key and MFA state are unknown.',
    ),
    accountId: state.accountId,
  };
}
