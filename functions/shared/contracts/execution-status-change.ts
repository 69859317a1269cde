import { z } from 'zod';

/**
 * EventBridge's "Step Functions Execution Status Change" event (source aws.states), as AWS sends it
 * for a standard workflow (best-effort delivery). `detail.input` is the execution input as a string;
 * AWS leaves it out when it is too large for the event (null, `inputDetails.included` false), so
 * nothing here may rely on it.
 */
export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';

/** The statuses an execution ends in without its own report: the rule in serverless.yml matches these. */
export const ENDED_WITHOUT_REPORT = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

export const ExecutionStatusChangeSchema = z.looseObject({
  source: z.literal('aws.states'),
  'detail-type': z.literal(EXECUTION_STATUS_CHANGE),
  detail: z.looseObject({
    executionArn: z.string().min(1),
    stateMachineArn: z.string().min(1),
    name: z.string().min(1).max(80),
    status: z.string(),
    startDate: z.number().nullable().optional(),
    stopDate: z.number().nullable().optional(),
    input: z.string().nullable().optional(),
    error: z.string().nullable().optional(),
    cause: z.string().nullable().optional(),
  }),
});
export type ExecutionStatusChange = z.infer<typeof ExecutionStatusChangeSchema>;

export function isExecutionStatusChange(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as Record<string, unknown>)['detail-type'] === EXECUTION_STATUS_CHANGE;
}
