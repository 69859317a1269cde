import { z } from 'zod';
import { INCIDENT_FILES } from '../evidence';
import { EvidenceRefSchema, notImplemented, recordedFailure } from './common';

export const CONTACT_TYPES = ['BILLING', 'OPERATIONS', 'SECURITY'] as const;
export const ContactTypeSchema = z.enum(CONTACT_TYPES);
export type ContactType = z.infer<typeof ContactTypeSchema>;

/** One LookupEvents query in one region, counted. */
export const QueryStatsSchema = z.object({
  region: z.string(),
  query: z.string(),
  calls: z.number(),
  pages: z.number(),
  events: z.number(),
  throttled: z.number(),
});
export type QueryStats = z.infer<typeof QueryStatsSchema>;

/**
 * Collect Evidence's output: counts, the keys of the files it wrote and a reference to its bundle,
 * never the events or the findings (a state is at most 256 KiB).
 */
export const EvidenceCollectionSchema = z.object({
  step: z.literal('collect-evidence'),
  status: z.literal('done'),
  detail: z.string(),
  window: z.object({ contextStart: z.string(), incidentStart: z.string(), end: z.string() }),
  regions: z.array(z.string()),
  review: z.object({
    calls: z.number(),
    throttled: z.number(),
    events: z.number(),
    windowEvents: z.number(),
    queries: z.array(QueryStatsSchema),
  }),
  counts: z.object({ findings: z.number().int().min(0), remediations: z.number().int().min(0), signIns: z.number().int().min(0) }),
  /** In the bundle: findings.json `{findings, remediations}` and sign-ins.json, read back by the steps that need them. */
  keys: z.object({ findings: z.literal(INCIDENT_FILES.evidence.findings), signIns: z.literal(INCIDENT_FILES.evidence.signIns) }),
  accountState: z.object({
    accountName: z.string().nullable(),
    alternateContacts: z.partialRecord(ContactTypeSchema, z.enum(['set', 'unset'])),
    organizationId: z.string().nullable(),
    trails: z.array(z.object({ name: z.string(), logging: z.boolean().nullable() })),
    guardDutyEnabledRegions: z.array(z.string()),
    /** What could not be read (refused or failed): the evidence lacks it, and a person should look. */
    unavailable: z.array(z.object({ what: z.string(), error: z.string() })),
  }),
  evidence: EvidenceRefSchema,
});
export type EvidenceCollection = z.infer<typeof EvidenceCollectionSchema>;

/** The evidence branch's result: the step's output, or its "Record Evidence Failure". */
export const EvidenceBranchSchema = z.union([
  EvidenceCollectionSchema,
  recordedFailure('collect-evidence'),
  notImplemented('collect-evidence'),
]);
export type EvidenceBranch = z.infer<typeof EvidenceBranchSchema>;

/** The collection, when it finished (not when the branch recorded its failure or it is not built). */
export function evidenceCollectionOf(branch: EvidenceBranch | undefined): EvidenceCollection | undefined {
  return branch?.status === 'done' ? branch : undefined;
}
