import { z } from 'zod';
import { INCIDENT_FILES } from '../evidence';
import { EvidenceRefSchema, invoked, SeveritySchema, StepStatusSchema } from './common';

/** A task of the plan: a console-only step for people, or a remediation that waits on approval. */
export const HumanTaskSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  kind: z.enum(['console', 'remediation', 'gate']),
  title: z.string().min(1),
  why: z.array(z.string()),
  steps: z.array(z.string()),
  verification: z.string(),
  /** For kind "remediation": what runs when it is approved. */
  remediation: z.object({ action: z.string(), target: z.string(), region: z.string() }).optional(),
  /** A remediation the stage config lets run without waiting for approval (the Map's "Approval Needed?" skips the request). */
  automatic: z.boolean().optional(),
  /** For a review task (review-tasks.ts): what it is about, for its check by API. Kept in plan.json, not in the Map item. */
  subject: z
    .object({
      kind: z.enum(['lambda-function', 'service-quota-request']),
      id: z.string(),
      region: z.string(),
      requestId: z.string().optional(),
    })
    .optional(),
});
export type HumanTask = z.infer<typeof HumanTaskSchema>;

/**
 * A task as a Map item carries it: its id, its kind and, for a remediation, what runs. Its text
 * (title, why, steps, verification) is in the assessment's plan.json: an item stays a few hundred
 * bytes however many tasks an incident has (Step Functions: 256 KiB per state).
 */
export const TaskRefSchema = HumanTaskSchema.pick({ id: true, kind: true, remediation: true, automatic: true });
export type TaskRef = z.infer<typeof TaskRefSchema>;

export function taskRef(task: HumanTask): TaskRef {
  return {
    id: task.id,
    kind: task.kind,
    ...(task.remediation ? { remediation: task.remediation } : {}),
    ...(task.automatic ? { automatic: true } : {}),
  };
}

/** How an automatic step went, as Assess Incident read it from the state (`unknown`: it reported nothing). */
export const StepSummarySchema = z.object({ status: z.union([StepStatusSchema, z.literal('unknown')]), detail: z.string() });
export type StepSummary = z.infer<typeof StepSummarySchema>;

/**
 * Assess Incident's output: ids, counts, keys and the tasks' refs; the findings and every task in
 * full are in the assessment folder (findings.json, plan.json).
 */
export const AssessmentSummarySchema = z.object({
  step: z.literal('assess-incident'),
  status: z.literal('done'),
  severity: SeveritySchema,
  steps: z.object({ snapshot: StepSummarySchema, containment: StepSummarySchema, evidence: StepSummarySchema }),
  counts: z.object({ findings: z.number().int().min(0), remediations: z.number().int().min(0), tasks: z.number().int().min(0) }),
  /** The first collection's bundle (null when it did not finish). */
  evidence: EvidenceRefSchema.nullable(),
  /** The assessment folder: findings.json `{findings, remediations}` and plan.json (every task in full). */
  stored: EvidenceRefSchema.extend({
    keys: z.object({ findings: z.literal(INCIDENT_FILES.assessment.findings), plan: z.literal(INCIDENT_FILES.assessment.plan) }),
  }),
  /**
   * Read by the ASL: the Choice on askWasItYou, "Was It You?" on closesOnConfirmation (a confirmed
   * sign-in ends the response only when nothing else was found), and the two Maps' ItemsPath.
   */
  plan: z.object({
    askWasItYou: z.boolean(),
    closesOnConfirmation: z.boolean(),
    gate: z.array(TaskRefSchema),
    tasks: z.array(TaskRefSchema),
  }),
});
export type AssessmentSummary = z.infer<typeof AssessmentSummarySchema>;

/** `$.assessment` (a failed assessment goes to Report Failure, so it is always the summary). */
export const AssessmentResultSchema = invoked(AssessmentSummarySchema);
export type AssessmentResult = z.infer<typeof AssessmentResultSchema>;
