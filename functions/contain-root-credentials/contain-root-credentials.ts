import { notImplemented, type NotImplemented } from '#shared/not-implemented';
import type { WorkflowState } from '#shared/schemas';

/** Contain Root Credentials: delete root access keys and signing certificates. */
export const requiredPermissions = [] as const;

export async function containRootCredentials(state: WorkflowState): Promise<NotImplemented & { accountId: string }> {
  return {
    ...notImplemented(
      'contain-root-credentials',
      'Not built yet (containment issue): root access keys and signing certificates were NOT deleted. Until then the plan asks a person to delete them in the console.',
    ),
    accountId: state.accountId,
  };
}
