import { z } from 'zod';
import { ActionResultSchema } from './action-result';
import { TaskRefSchema } from './assessment';
import { CaughtErrorSchema, invoked, SeveritySchema } from './common';
import { TaskVerificationSchema } from './task-verification';

/**
 * One item of a human-task Map: `{"Payload": {"input": TaskItemInput}}` (see DESIGN.md), built by
 * the Map's ItemSelector from a TaskRef of the plan and the incident's ids and timing.
 */
export const TaskItemInputSchema = z.object({
  incidentId: z.string().min(1),
  accountId: z.string().min(1),
  severity: SeveritySchema,
  task: TaskRefSchema,
  /** When the incident started: verification looks for changes after it. */
  openedAt: z.string().optional(),
  waitSeconds: z.number().int().min(1),
  reminders: z.number().int().min(0),
  maxReminders: z.number().int().min(0),
  /** Why this request is repeated: no answer before the timeout, or a "done" that did not verify. */
  reason: z.string().optional(),
});
export type TaskItemInput = z.infer<typeof TaskItemInputSchema>;

export interface TaskItem {
  Payload: { input: TaskItemInput };
}

/** What a waitForTaskToken Lambda receives. The token is never logged, mailed or put in a URL. */
export const ApprovalRequestSchema = z.object({
  token: z.string().min(1).max(2048),
  input: TaskItemInputSchema,
});
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;

/** The decision SendTaskSuccess returns into the workflow (at the item's `$.decision`). */
export const ApprovalDecisionSchema = z.object({
  decision: z.literal('approved'),
  decidedBy: z.string(),
  decidedAt: z.string(),
  via: z.string(),
  comment: z.string().optional(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecisionSchema>;

/**
 * A Map item as a task-level step receives it (the whole item state): the item, and what the
 * item's states added so far (the decision, a timeout, the action's and the verification's results).
 */
export const TaskItemStateSchema = z.looseObject({
  Payload: z.object({ input: TaskItemInputSchema }),
  decision: ApprovalDecisionSchema.optional(),
  timeout: CaughtErrorSchema.optional(),
  action: invoked(ActionResultSchema).optional(),
  verification: invoked(TaskVerificationSchema).optional(),
});
export type TaskItemState = z.infer<typeof TaskItemStateSchema>;

/** Send Reminder's output, which becomes the next item (`{"Payload": {"input": ...}}`) for Request Approval. */
export const ReminderSchema = z.object({ input: TaskItemInputSchema });
export type Reminder = z.infer<typeof ReminderSchema>;
