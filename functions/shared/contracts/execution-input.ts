import { z } from 'zod';
import { CATEGORIES, type Triage } from '../triage';
import { SeveritySchema } from './common';

/** Timing the state machine reads from its input (hours when deployed, a second in a drill). */
export const ResponseSettingsSchema = z.object({
  approvalWaitSeconds: z.number().int().min(1),
  maxReminders: z.number().int().min(0).max(10),
});
export type ResponseSettings = z.infer<typeof ResponseSettingsSchema>;

export const TriageSchema = z.object({
  eventId: z.string().nullable(),
  eventName: z.string(),
  eventSource: z.string(),
  accountId: z.string().nullable(),
  sourceIPAddress: z.string().nullable(),
  isRoot: z.boolean(),
  benign: z.boolean(),
  startsIncident: z.boolean(),
  severity: SeveritySchema,
  categories: z.array(z.enum(CATEGORIES)),
  reasons: z.array(z.string()),
  eventTime: z.string().nullable(),
  parsed: z.boolean(),
}) satisfies z.ZodType<Triage>;

/** What intake starts the state machine with: the root of every state. Small: references, never bulk data. */
export const ExecutionInputSchema = z.object({
  incidentId: z.string().min(1).max(80),
  accountId: z.string().min(1),
  region: z.string(),
  openedAt: z.string(),
  /** When intake received the triggering event (CloudTrail delivers minutes after openedAt). */
  receivedAt: z.string().optional(),
  source: z.enum(['cloudtrail', 'guardduty']),
  /** True when the triggering event did not fit the schema (fail open). */
  unparsed: z.boolean(),
  trigger: TriageSchema,
  settings: ResponseSettingsSchema,
  /** The account's incident before this one (a later compromise of the same account links the earlier). */
  previousIncidentId: z.string().min(1).max(80).optional(),
});
export type ExecutionInput = z.infer<typeof ExecutionInputSchema>;
