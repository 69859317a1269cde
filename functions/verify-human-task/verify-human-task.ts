import { notImplemented, type NotImplemented } from '#shared/not-implemented';
import type { TaskItemState } from '#shared/schemas';

/** Verify Human Task: check by API that a task a person marked done is really done. */
export const requiredPermissions = [] as const;

export async function verifyHumanTask(state: TaskItemState): Promise<NotImplemented & { taskId: string; verified: null }> {
  return {
    ...notImplemented('verify-human-task', `Not built yet (human tasks issue): "${state.Payload.input.task.title}" was not verified by API.`),
    taskId: state.Payload.input.task.id,
    verified: null,
  };
}
