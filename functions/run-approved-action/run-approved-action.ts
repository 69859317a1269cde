import { assumeRoot } from '#shared/assume-root';
import { TransientAwsError } from '#shared/errors';
import { evidenceReadPermissions } from '#shared/evidence';
import type { TaskDetails } from '#shared/plan';
import { remediationFor, remediationPermissions } from '#shared/remediations/index';
import type { RunContext, RunOutcome } from '#shared/remediations/types';
import type { ActionResult } from '#shared/contracts/action-result';
import type { TaskItemState } from '#shared/contracts/task-item';
import type { RecordOwnSession } from '#shared/own-session-store';

/**
 * Run Approved Action: an approved remediation acts at once, inside its own Map item (the
 * attacker's admin user is quarantined when its approval arrives, not after every other task).
 * What runs is the registry's entry for the task's action (functions/shared/remediations/): each
 * is idempotent and says how it is undone. Actions on root credentials run under an AssumeRoot
 * delete session and only in member accounts; elsewhere no IAM principal can make them, which the
 * result says.
 */
export const requiredPermissions = [
  ...remediationPermissions('run'),
  // An action the registry does not hold is handed back in the task's own words, from the assessment's plan.json.
  ...evidenceReadPermissions,
] as const;

/** What every remediation runs with (RunContext: target and responder clients, clock, baseline, CloudTrail limiters), and the step's own needs. */
export interface RunActionDeps extends Pick<RunContext, 'clients' | 'responder' | 'member' | 'clock' | 'baseline' | 'limiters'> {
  recordOwnSession?: RecordOwnSession;
  /** The task's text by id (plan.json of the assessment). */
  taskDetails: TaskDetails;
}

async function act(action: string, target: string, region: string, state: TaskItemState, deps: RunActionDeps): Promise<RunOutcome> {
  const remediation = remediationFor(action);
  if (!remediation)
    return {
      status: 'not-implemented',
      detail: `Running "${action}" is not built: do it by hand (${(await deps.taskDetails(state.Payload.input.task.id)).title}).`,
    };
  const accountId = state.Payload.input.accountId;
  return remediation.run({
    accountId,
    target,
    region,
    clients: deps.clients,
    responder: deps.responder,
    member: deps.member,
    clock: deps.clock,
    baseline: deps.baseline,
    limiters: deps.limiters,
    rootSession: async () => {
      const session = await assumeRoot(deps.responder, 'us-east-1', accountId, 'IAMDeleteRootUserCredentials', deps.clock.now());
      await deps.recordOwnSession?.(accountId, session.credentials.accessKeyId, session.expiresAt);
      return deps.responder.iam(session.credentials);
    },
  });
}

export async function runApprovedAction(state: TaskItemState, deps: RunActionDeps): Promise<ActionResult> {
  const task = state.Payload.input.task;
  const base = {
    step: 'run-approved-action' as const,
    taskId: task.id,
    action: task.remediation?.action ?? null,
    target: task.remediation?.target ?? null,
  };
  if (task.kind !== 'remediation' || !task.remediation) {
    return {
      ...base,
      status: 'skipped',
      detail: 'A console task: the responder does it; nothing runs here.',
      undo: [],
      at: deps.clock.now().toISOString(),
    };
  }
  const { action, target, region } = task.remediation;
  try {
    const out = await act(action, target, region, state, deps);
    // How to take it back, when something changed: the run's own steps, else the registry's.
    const undo =
      out.status === 'done'
        ? (out.undo ?? remediationFor(action)?.undoSteps({ accountId: state.Payload.input.accountId, target, region }) ?? [])
        : [];
    return { ...base, status: out.status, detail: out.detail, undo, at: deps.clock.now().toISOString() };
  } catch (error) {
    if (error instanceof TransientAwsError) throw error;
    // A refused or failed change is reported, never hidden: the task stays open with the reason.
    return {
      ...base,
      status: 'failed',
      detail: `${(error as Error).name}: ${(error as Error).message}`.slice(0, 400),
      undo: [],
      at: deps.clock.now().toISOString(),
    };
  }
}
