import { z } from 'zod';

/** Verify Human Task's output: whether an API confirms the task is done (null: no API can see it). */
export const TaskVerificationSchema = z.object({
  step: z.literal('verify-human-task'),
  status: z.literal('done'),
  taskId: z.string(),
  verified: z.boolean().nullable(),
  reason: z.string(),
  checkedAt: z.string(),
});
export type TaskVerification = z.infer<typeof TaskVerificationSchema>;
