import { notImplemented, type NotImplemented } from '#shared/not-implemented';
import type { TaskItemState } from '#shared/schemas';

/** Run Approved Action: an approved remediation acts at once; a console task has nothing to run. */
export const requiredPermissions = [] as const;

export type ActionResult = (NotImplemented | { step: string; status: 'skipped'; detail: string }) & { taskId: string };

export async function runApprovedAction(state: TaskItemState): Promise<ActionResult> {
  const task = state.Payload.input.task;
  if (task.kind !== 'remediation') {
    return { step: 'run-approved-action', status: 'skipped', detail: 'A console task: the responder does it; nothing runs here.', taskId: task.id };
  }
  return { ...notImplemented('run-approved-action', `Not built yet (human tasks issue): the approved remediation "${task.title}" did not run.`), taskId: task.id };
}
