import { z } from 'zod';
import { recordedFailure, StepStatusSchema } from './common';

export const ContainmentActionSchema = z.object({
  action: z.enum(['delete-root-access-key', 'delete-root-signing-certificate']),
  target: z.string(),
  status: z.union([StepStatusSchema, z.literal('already-gone')]),
  at: z.string(),
  detail: z.string(),
});
export type ContainmentAction = z.infer<typeof ContainmentActionSchema>;

/** Contain Root Credentials' output: what it deleted, or what kept it from acting. */
export const ContainmentSchema = z.object({
  step: z.literal('contain-root-credentials'),
  status: StepStatusSchema,
  accountId: z.string(),
  detail: z.string(),
  /** What kept this step from acting (a permission, a disabled feature, the account kind). */
  blockedBy: z.string().nullable(),
  actions: z.array(ContainmentActionSchema),
  /** The credentials present before deletion: evidence. */
  before: z
    .object({
      accessKeys: z.array(z.object({ AccessKeyId: z.string(), Status: z.string(), CreateDate: z.string().nullable() })),
      signingCertificates: z.array(z.object({ CertificateId: z.string(), Status: z.string(), UploadDate: z.string().nullable() })),
    })
    .nullable(),
  ownSessionAccessKeyId: z.string().nullable(),
  /** An open root console session is not ended by deleting credentials. */
  cutOff: z.string(),
});
export type Containment = z.infer<typeof ContainmentSchema>;

/** The containment branch's result: the step's output, or its "Record Containment Failure". */
export const ContainmentBranchSchema = z.union([ContainmentSchema, recordedFailure('contain-root-credentials')]);
export type ContainmentBranch = z.infer<typeof ContainmentBranchSchema>;

/** The containment step's output, when it ran (not when the branch recorded its failure). */
export function containmentOf(branch: ContainmentBranch | undefined): Containment | undefined {
  return branch && 'actions' in branch ? branch : undefined;
}
