import { z } from 'zod';
import { CATEGORIES, type Triage } from './triage';

/** Incident lifecycle. `open`: work remains; the others are final. */
export const INCIDENT_STATUSES = ['open', 'resolved', 'expected-use', 'failed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

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
  severity: z.enum(['critical', 'high', 'medium', 'low', 'info']),
  categories: z.array(z.enum(CATEGORIES)),
  reasons: z.array(z.string()),
  eventTime: z.string().nullable(),
  parsed: z.boolean(),
}) satisfies z.ZodType<Triage>;

/** What intake starts the state machine with. Small: references, never bulk data. */
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
});
export type ExecutionInput = z.infer<typeof ExecutionInputSchema>;

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

/** Status every step reports for its own work. `not-implemented` is said, never hidden. */
export type StepStatus = 'done' | 'failed' | 'skipped' | 'not-implemented';

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
});
export type HumanTask = z.infer<typeof HumanTaskSchema>;

/**
 * A task as a Map item carries it: its id, its kind and, for a remediation, what runs. Its text
 * (title, why, steps, verification) is in the assessment's plan.json: an item stays a few hundred
 * bytes however many tasks an incident has (Step Functions: 256 KiB per state).
 */
export const TaskRefSchema = HumanTaskSchema.pick({ id: true, kind: true, remediation: true });
export type TaskRef = z.infer<typeof TaskRefSchema>;

export function taskRef(task: HumanTask): TaskRef {
  return { id: task.id, kind: task.kind, ...(task.remediation ? { remediation: task.remediation } : {}) };
}

/**
 * One item of a human-task Map: `{"Payload": {"input": TaskItemInput}}` (see DESIGN.md), built by
 * the Map's ItemSelector from a TaskRef of the plan and the incident's ids and timing.
 */
export const TaskItemInputSchema = z.object({
  incidentId: z.string().min(1),
  accountId: z.string().min(1),
  severity: z.enum(['critical', 'high', 'medium', 'low', 'info']),
  task: TaskRefSchema,
  /** When the incident started: verification looks for changes after it. */
  openedAt: z.string().optional(),
  waitSeconds: z.number().int().min(1),
  reminders: z.number().int().min(0),
  maxReminders: z.number().int().min(0),
  /** Why this request is repeated: no answer before the timeout, or a "done" that did not verify. */
  reason: z.string().optional(),
});
export type TaskItemInput = z.infer<typeof TaskItemInputSchema>;

export interface TaskItem {
  Payload: { input: TaskItemInput };
}

/** What a waitForTaskToken Lambda receives. The token is never logged, mailed or put in a URL. */
export const ApprovalRequestSchema = z.object({
  token: z.string().min(1).max(2048),
  input: TaskItemInputSchema,
});
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;

/** A Map item as a task-level step receives it (the whole item state). */
export const TaskItemStateSchema = z.looseObject({
  Payload: z.object({ input: TaskItemInputSchema }),
  decision: z.unknown().optional(),
  timeout: z.unknown().optional(),
  verification: z.looseObject({ Payload: z.looseObject({ reason: z.string().optional() }) }).optional(),
  action: z.looseObject({ Payload: z.looseObject({ status: z.string().optional(), detail: z.string().optional() }) }).optional(),
});
export type TaskItemState = z.infer<typeof TaskItemStateSchema>;

const SeveritySchema = z.enum(['critical', 'high', 'medium', 'low', 'info']);

/** A finding as stored in findings.json (evidence ids capped in the assessment, `evidenceTotal` the count). */
export const StoredFindingSchema = z.looseObject({
  id: z.string(),
  category: z.string(),
  severity: SeveritySchema,
  title: z.string(),
  detail: z.string(),
  evidence: z.array(z.string()),
  evidenceTotal: z.number().int().optional(),
});

export const StoredRemediationSchema = z.looseObject({ id: z.string(), action: z.string(), target: z.string(), region: z.string(), undo: z.string(), evidence: z.array(z.string()) });

/** findings.json, of the evidence bundle (as collected) and of the assessment (as assessed). */
export const StoredFindingsSchema = z.object({ findings: z.array(StoredFindingSchema), remediations: z.array(StoredRemediationSchema) });

/** plan.json of the assessment: every task in full; the Map items carry TaskRefs. */
export const StoredPlanSchema = z.object({ askWasItYou: z.boolean(), gate: z.array(HumanTaskSchema), tasks: z.array(HumanTaskSchema) });
export type StoredPlan = z.infer<typeof StoredPlanSchema>;

/** A root sign-in as sign-ins.json of the evidence bundle holds it. */
export const StoredSignInSchema = z.looseObject({ at: z.string(), eventId: z.string(), sourceIPAddress: z.string().nullable(), userAgent: z.string().nullable(), outcome: z.enum(['success', 'failure', 'unknown']), mfa: z.boolean().nullable(), knownSource: z.boolean() });

/** The decision SendTaskSuccess returns into the workflow. */
export interface ApprovalDecision {
  decision: 'approved';
  decidedBy: string;
  decidedAt: string;
  via: string;
  comment?: string;
}

/** The workflow state as the top-level steps receive it: the execution input plus step results. */
export const WorkflowStateSchema = z.looseObject(ExecutionInputSchema.shape);
export type WorkflowState = z.infer<typeof WorkflowStateSchema>;

/**
 * Notify Responders' input, picked from the state by the ASL's Parameters (the Map items and the
 * step results it does not need stay behind): every path is one that always exists after Assess.
 */
export const NotifyInputSchema = ExecutionInputSchema.pick({ incidentId: true, accountId: true, region: true, trigger: true }).extend({
  severity: z.enum(['critical', 'high', 'medium', 'low', 'info']),
  steps: z.record(z.string(), z.object({ status: z.string(), detail: z.string() })),
  tasks: z.number().int().min(0),
});
export type NotifyInput = z.infer<typeof NotifyInputSchema>;

/** Verify Incident's input, picked by the ASL's Parameters: the incident's ids (it reads the rest from the evidence bundle). */
export const VerifyIncidentInputSchema = ExecutionInputSchema.pick({ incidentId: true, accountId: true });
export type VerifyIncidentInput = z.infer<typeof VerifyIncidentInputSchema>;
