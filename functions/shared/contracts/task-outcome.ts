import { z } from 'zod';
import { TaskRefSchema } from './assessment';
import { CaughtErrorSchema, StepStatusSchema } from './common';
import { ApprovalDecisionSchema } from './task-item';

/**
 * What each human task's "Record ... Task" Pass state keeps of its item (the Map's result, at
 * `$.humanTasks`): ids and what the report reads, nothing that grows with the task's text.
 */
const recorded = { taskId: TaskRefSchema.shape.id, kind: TaskRefSchema.shape.kind };

export const TaskOutcomeSchema = z.discriminatedUnion('status', [
  /** Record Completed Task: decided, acted on (a console task: skipped), verified. */
  z.object({
    ...recorded,
    status: z.literal('done'),
    decision: ApprovalDecisionSchema.pick({ decidedBy: true, decidedAt: true }),
    action: z.object({ status: StepStatusSchema, detail: z.string(), undo: z.array(z.string()).optional() }),
    verification: z.object({ verified: z.boolean().nullable() }),
  }),
  /** Record Rejected Task: a responder rejected it (ApprovalRejectedError). */
  z.object({ ...recorded, status: z.literal('rejected'), rejection: CaughtErrorSchema }),
  /** Record Overdue Task: no answer after every reminder; escalated. */
  z.object({ ...recorded, status: z.literal('overdue'), reminders: z.number().int().min(0) }),
  /** Record Failed Task: a step of the item failed for good. */
  z.object({ ...recorded, status: z.literal('failed'), error: CaughtErrorSchema }),
]);
export type TaskOutcome = z.infer<typeof TaskOutcomeSchema>;

/** What the "was this you?" gate's Record states keep (the gate Map's result, at `$.gate`: zero or one). */
export const GateOutcomeSchema = z.union([
  z.object({ confirmed: z.literal(true), decision: ApprovalDecisionSchema }),
  z.object({ confirmed: z.literal(false), reason: z.literal('denied'), rejection: CaughtErrorSchema }),
  z.object({ confirmed: z.literal(false), reason: z.literal('no answer') }),
]);
export type GateOutcome = z.infer<typeof GateOutcomeSchema>;
