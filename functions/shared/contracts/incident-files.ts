import { z } from 'zod';
import { FINDING_CATEGORIES, type Finding, type ProposedRemediation, REMEDIATION_ACTIONS } from '../findings';
import { HumanTaskSchema } from './assessment';
import { SeveritySchema } from './common';

/**
 * The files steps write to the incident's folders and later steps read back (readJson checks them
 * against these): what the state does not carry because it grows with the incident.
 */

/** A finding as findings.json and late-findings.json hold it (evidence ids capped in the assessment, `evidenceTotal` the count). */
export const StoredFindingSchema = z.looseObject({
  id: z.string(),
  category: z.enum(FINDING_CATEGORIES),
  severity: SeveritySchema,
  title: z.string(),
  detail: z.string(),
  evidence: z.array(z.string()),
  evidenceTotal: z.number().int().optional(),
}) satisfies z.ZodType<Finding>;

export const StoredRemediationSchema = z.looseObject({
  id: z.string(),
  action: z.enum(REMEDIATION_ACTIONS),
  target: z.string(),
  region: z.string(),
  undo: z.string(),
  evidence: z.array(z.string()),
  steps: z.array(z.string()).optional(),
}) satisfies z.ZodType<ProposedRemediation>;

/** findings.json, of the evidence bundle (as collected) and of the assessment (as assessed). */
export const StoredFindingsSchema = z.object({ findings: z.array(StoredFindingSchema), remediations: z.array(StoredRemediationSchema) });
export type StoredFindings = z.infer<typeof StoredFindingsSchema>;

/** plan.json of the assessment: every task in full; the Map items carry TaskRefs. */
export const StoredPlanSchema = z.object({
  askWasItYou: z.boolean(),
  closesOnConfirmation: z.boolean().default(false),
  gate: z.array(HumanTaskSchema),
  tasks: z.array(HumanTaskSchema),
});
export type StoredPlan = z.infer<typeof StoredPlanSchema>;

/** A root sign-in as sign-ins.json of the evidence bundle holds it. */
export const StoredSignInSchema = z.looseObject({
  at: z.string(),
  eventId: z.string(),
  sourceIPAddress: z.string().nullable(),
  userAgent: z.string().nullable(),
  outcome: z.enum(['success', 'failure', 'unknown']),
  mfa: z.boolean().nullable(),
  knownSource: z.boolean(),
});
export type SignIn = z.infer<typeof StoredSignInSchema>;

/** cloudtrail-index.json of the evidence bundle: what the first collection saw, so the verification can tell which events arrived late. */
export const StoredCloudTrailIndexSchema = z.object({
  regions: z.array(z.string()),
  incidentStart: z.string(),
  collectedUntil: z.string(),
  eventIds: z.array(z.string()),
});
export type StoredCloudTrailIndex = z.infer<typeof StoredCloudTrailIndexSchema>;
