import { z } from 'zod';
import { AssessmentSummarySchema } from './assessment';
import { invoked } from './common';
import { ExecutionInputSchema } from './execution-input';

/**
 * Notify Responders' input, picked from the state by the ASL's Parameters (the Map items and the
 * step results it does not need stay behind): every path is one that always exists after Assess.
 */
export const NotifyInputSchema = ExecutionInputSchema.pick({ incidentId: true, accountId: true, region: true, trigger: true }).extend({
  severity: AssessmentSummarySchema.shape.severity,
  steps: AssessmentSummarySchema.shape.steps,
  tasks: AssessmentSummarySchema.shape.counts.shape.tasks,
  /** The first collection's manifest (digest, S3 version id), for the email: checkable outside the bucket. */
  evidence: AssessmentSummarySchema.shape.evidence,
});
export type NotifyInput = z.infer<typeof NotifyInputSchema>;

/** Notify Responders' output. */
export const NotificationSchema = z.object({
  step: z.literal('notify-responders'),
  status: z.literal('done'),
  messageId: z.string().nullable(),
  tasks: z.number().int().min(0),
});
export type Notification = z.infer<typeof NotificationSchema>;

/** `$.notification`. */
export const NotificationResultSchema = invoked(NotificationSchema);
