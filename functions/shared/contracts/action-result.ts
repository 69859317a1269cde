import { z } from 'zod';
import { StepStatusSchema } from './common';

/** Run Approved Action's output: what the approved remediation did (a console task runs nothing: skipped). */
export const ActionResultSchema = z.object({
  step: z.literal('run-approved-action'),
  status: StepStatusSchema,
  taskId: z.string(),
  action: z.string().nullable(),
  target: z.string().nullable(),
  detail: z.string(),
  /** The exact steps (commands) that undo what ran, for the report (empty when nothing changed). */
  undo: z.array(z.string()),
  at: z.string(),
});
export type ActionResult = z.infer<typeof ActionResultSchema>;
