import { z } from 'zod';
import type { Triage } from './triage';

/** Incident lifecycle. `open`: work remains; the others are final. */
export const INCIDENT_STATUSES = ['open', 'resolved', 'expected-use', 'failed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Timing the state machine reads from its input (hours when deployed, a second in a drill). */
export const ResponseSettingsSchema = z.object({
  approvalWaitSeconds: z.number().int().min(1),
  maxReminders: z.number().int().min(0).max(10),
});
export type ResponseSettings = z.infer<typeof ResponseSettingsSchema>;

/** What intake starts the state machine with. Small: references, never bulk data. */
export interface ExecutionInput {
  incidentId: string;
  accountId: string;
  region: string;
  openedAt: string;
  source: 'cloudtrail' | 'guardduty';
  /** True when the triggering event did not fit the schema (fail open). */
  unparsed: boolean;
  trigger: Triage;
  settings: ResponseSettings;
}

export const ExecutionInputSchema = z.looseObject({
  incidentId: z.string().min(1),
  accountId: z.string().min(1),
  region: z.string(),
  openedAt: z.string(),
  source: z.enum(['cloudtrail', 'guardduty']),
  unparsed: z.boolean(),
  trigger: z.looseObject({ severity: z.string(), reasons: z.array(z.string()) }),
  settings: ResponseSettingsSchema,
});

/** One event as attached to an incident: the triage summary, not the raw record. */
export interface IncidentEvent {
  eventId: string;
  eventName: string;
  eventTime: string | null;
  severity: Triage['severity'];
  startsIncident: boolean;
  sourceIPAddress: string | null;
  receivedAt: string;
}

/** Status every step reports for its own work. `not-implemented` is said, never hidden. */
export type StepStatus = 'done' | 'failed' | 'skipped' | 'not-implemented';
