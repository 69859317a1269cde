import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient, TaskDoesNotExist, TaskTimedOut } from '@aws-sdk/client-sfn';
import { type ApprovalRecord, type ApprovalStore, approvalStorePermissions } from '#shared/approval-store';
import type { Clock } from '#shared/clock';
import { ApprovalAlreadyDecidedError, ApprovalRejectedError, isAwsError, isTransientAwsError, TransientAwsError } from '#shared/errors';
import type { ApprovalDecision } from '#shared/contracts/task-item';

/**
 * The decision core of the approvals API: record the decision once (conditional write), then
 * hand it to the waiting workflow. Approve is SendTaskSuccess with who/when/how; reject is
 * SendTaskFailure with ApprovalRejectedError, which the state machine catches by name.
 * The HTTP front (CSRF token, Origin check, the responder's second factor) is the human-tasks
 * issue; until then only the drill's simulated responder calls this.
 */
export const requiredPermissions = [...approvalStorePermissions.decide, 'states:SendTaskSuccess', 'states:SendTaskFailure'] as const;

export interface DecideDeps {
  approvals: ApprovalStore;
  sfn: Pick<SFNClient, 'send'>;
  clock: Clock;
}

export interface DecisionRequest {
  id: string;
  outcome: 'approved' | 'rejected';
  decidedBy: string;
  via: string;
  reason?: string;
}

export type DecisionResult = Omit<ApprovalRecord, 'token' | 'pk'> & {
  complete: boolean;
  /** The decision was on the record already (this responder's earlier submission); the workflow was told again. */
  resent?: boolean;
};

/**
 * This responder's own decision, already on the record: their earlier attempt wrote it and then
 * failed (a lost response, a 5xx before the workflow heard it), and they submitted again.
 */
async function ownEarlierDecision(
  request: DecisionRequest,
  deps: DecideDeps,
): Promise<{ record: ApprovalRecord; complete: boolean } | undefined> {
  const record = await deps.approvals.get(request.id);
  if (!record) return undefined;
  // A decision is any of its voters': approvals for an approval, rejections for a rejection.
  const votes = request.outcome === 'approved' ? record.approvals : (record.rejections ?? []);
  if (!votes.some((v) => v.by === request.decidedBy)) return undefined;
  if (record.status === 'pending') return { record, complete: false };
  return record.status === request.outcome ? { record, complete: true } : undefined;
}

export async function decide(request: DecisionRequest, deps: DecideDeps): Promise<DecisionResult> {
  let decided: { record: ApprovalRecord; complete: boolean };
  let again = false;
  try {
    decided = await deps.approvals.decide(
      request.id,
      request.outcome,
      { decidedBy: request.decidedBy, via: request.via, ...(request.reason ? { comment: request.reason } : {}) },
      deps.clock.now(),
    );
  } catch (error) {
    const earlier = error instanceof ApprovalAlreadyDecidedError ? await ownEarlierDecision(request, deps) : undefined;
    if (!earlier) throw error;
    // Tell the workflow again: it may never have heard (the token is refused if it did).
    decided = earlier;
    again = true;
  }
  const { record, complete } = decided;
  const { token: _token, pk: _pk, ...safe } = record;
  // Two-person rule: the first of two approvals is recorded; the workflow hears only the quorum.
  if (!complete) return { ...safe, complete, ...(again ? { resent: true } : {}) };
  try {
    if (request.outcome === 'approved') {
      const output: ApprovalDecision = {
        decision: 'approved',
        decidedBy: record.decidedBy!,
        decidedAt: record.decidedAt!,
        via: request.via,
        ...(request.reason ? { comment: request.reason } : {}),
      };
      await deps.sfn.send(new SendTaskSuccessCommand({ taskToken: record.token, output: JSON.stringify(output) }));
    } else {
      const rejection = new ApprovalRejectedError(request.reason ?? `Rejected by ${request.decidedBy}`);
      await deps.sfn.send(
        new SendTaskFailureCommand({ taskToken: record.token, error: rejection.name, cause: rejection.message.slice(0, 256) }),
      );
    }
  } catch (error) {
    if (isAwsError(error, TaskTimedOut, TaskDoesNotExist)) {
      // Sent again and refused: the workflow heard the first time (or stopped waiting); the decision stands.
      if (again) return { ...safe, complete, resent: true };
      // The workflow stopped waiting (timed out into a reminder, or finished): this link is dead.
      throw new ApprovalAlreadyDecidedError('superseded: the workflow is no longer waiting on this link');
    }
    if (isTransientAwsError(error)) throw new TransientAwsError('states:SendTask', { cause: error });
    throw error;
  }
  return { ...safe, complete, ...(again ? { resent: true } : {}) };
}
