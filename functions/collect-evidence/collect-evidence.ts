import { notImplemented, type NotImplemented } from '#shared/not-implemented';
import type { WorkflowState } from '#shared/schemas';

/** Collect Evidence: every root CloudTrail event of the window, in every region, plus account state. */
export const requiredPermissions = [] as const;

export async function collectEvidence(state: WorkflowState): Promise<NotImplemented & { accountId: string }> {
  return {
    ...notImplemented('collect-evidence', 'Not built yet (evidence issue): no CloudTrail review and no evidence bundle were made. Only the triggering event is known.'),
    accountId: state.accountId,
  };
}
