import { z } from 'zod';
import type { EvidenceRef } from '../evidence';

/**
 * The pieces every contract is built of: how the state machine keeps a step's result (under
 * `Payload`, by each Task's ResultSelector), what a Catch writes in its place, and the words every
 * step reports its own work in.
 */

export const SeveritySchema = z.enum(['critical', 'high', 'medium', 'low', 'info']);

/** Status every step reports for its own work. `not-implemented` is said, never hidden. */
export const StepStatusSchema = z.enum(['done', 'failed', 'skipped', 'not-implemented']);
export type StepStatus = z.infer<typeof StepStatusSchema>;

/** What a Catch writes at its ResultPath: the error's name and its cause (a Lambda's is JSON with errorMessage). */
export const CaughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type CaughtError = z.infer<typeof CaughtErrorSchema>;

/** A lambda:invoke result as the Task's ResultSelector `{"Payload.$": "$.Payload"}` keeps it. */
export const invoked = <S extends z.ZodType>(payload: S) => z.object({ Payload: payload });

/** What a Parallel branch's "Record ... Failure" Pass state writes in place of the step's result. */
export const recordedFailure = <const Step extends string>(step: Step) =>
  z.object({ step: z.literal(step), status: z.literal('failed'), error: CaughtErrorSchema });

/** A step that is not built yet says so, with why; nothing else (DESIGN: `not-implemented` is said, never hidden). */
export const notImplemented = <const Step extends string>(step: Step) =>
  z.object({ step: z.literal(step), status: z.literal('not-implemented'), detail: z.string() });

/** Where a step's bundle of files went (EvidenceBundle.finish): the state carries this, never the files. */
export const EvidenceRefSchema = z.object({
  location: z.string(),
  manifestSha256: z.string(),
  manifestVersionId: z.string().nullable(),
  files: z.number().int().min(0),
}) satisfies z.ZodType<EvidenceRef>;
