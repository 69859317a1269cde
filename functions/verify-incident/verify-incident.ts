import { notImplemented, type NotImplemented } from '#shared/not-implemented';
import type { WorkflowState } from '#shared/schemas';

/** Verify Incident: collect late events again and re-check every finding before the report. */
export const requiredPermissions = [] as const;

export async function verifyIncident(state: WorkflowState): Promise<NotImplemented & { accountId: string }> {
  return {
    ...notImplemented('verify-incident', 'Not built yet (evidence issue): late CloudTrail events were not collected and findings were not re-checked.'),
    accountId: state.accountId,
  };
}
