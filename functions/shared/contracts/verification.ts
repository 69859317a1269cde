import { z } from 'zod';
import { INCIDENT_FILES } from '../evidence';
import { CaughtErrorSchema, EvidenceRefSchema, invoked, notImplemented } from './common';
import { ExecutionInputSchema } from './execution-input';
import { TaskOutcomeSchema } from './task-outcome';

/**
 * Verify Incident's input, picked by the ASL's Parameters: the incident's ids (it reads the rest from
 * the evidence bundle) and how each human task ended, to tell the responders' own root work apart.
 */
export const VerifyIncidentInputSchema = ExecutionInputSchema.pick({ incidentId: true, accountId: true }).extend({
  humanTasks: z.array(TaskOutcomeSchema).optional(),
});
export type VerifyIncidentInput = z.infer<typeof VerifyIncidentInputSchema>;

/** Verify Incident's output: how many events arrived after the first collection; the findings are in late-findings.json. */
export const VerificationSchema = z.object({
  step: z.literal('verify-incident'),
  status: z.enum(['done', 'skipped']),
  detail: z.string(),
  lateEvents: z.number().int().min(0),
  /** How many; the findings are in late-findings.json of the verification folder. */
  lateFindings: z.number().int().min(0),
  /** Late root events the open root console tasks explain: confirmed (task approved) or raised as findings (it was not). */
  responderActivity: z.object({ confirmed: z.number().int().min(0), raised: z.number().int().min(0) }).optional(),
  keys: z
    .object({
      lateFindings: z.literal(INCIDENT_FILES.verification.lateFindings),
      responderActivity: z.literal(INCIDENT_FILES.verification.responderActivity).optional(),
    })
    .nullable(),
  evidence: EvidenceRefSchema.nullable(),
});
export type Verification = z.infer<typeof VerificationSchema>;

/** `$.verification`: the verification, or the error its Catch wrote (the report is written either way). */
export const VerificationResultSchema = z.union([
  invoked(z.union([VerificationSchema, notImplemented('verify-incident')])),
  CaughtErrorSchema,
]);
export type VerificationResult = z.infer<typeof VerificationResultSchema>;
