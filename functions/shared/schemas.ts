import type { Triage } from './triage';

/**
 * The incidents table's own words. What the steps hand each other (the execution input, every
 * step's result, the workflow state built of them, the files they read back) is in contracts/.
 */

/**
 * Incident lifecycle. `open`: its execution runs. Every other status is final and says what is left:
 * `resolved` and `expected-use` nothing, `needs-attention` its open items (people must finish them),
 * `failed` the execution did not finish (FAILED, TIMED_OUT, ABORTED: the runbook by hand).
 */
export const INCIDENT_STATUSES = ['open', 'resolved', 'expected-use', 'needs-attention', 'failed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** One event as attached to an incident: the triage summary, not the raw record. */
export interface IncidentEvent {
  /** Deduplication key: a redelivered event has the same one (eventID alone is not unique in samples). */
  key: string;
  eventId: string;
  eventName: string;
  eventTime: string | null;
  severity: Triage['severity'];
  startsIncident: boolean;
  sourceIPAddress: string | null;
  receivedAt: string;
}

/** The incidents table keeps each incident's execution input (incident-store.ts reads the type from here). */
export type { ExecutionInput } from './contracts/execution-input';
