import { z } from 'zod';
import { AssessmentResultSchema } from './assessment';
import { CaughtErrorSchema, invoked, notImplemented } from './common';
import { ContainmentBranchSchema } from './containment';
import { EvidenceBranchSchema } from './evidence-collection';
import { ExecutionInputSchema } from './execution-input';
import { NotificationResultSchema } from './notification';
import { ReportResultSchema } from './report';
import { RootSnapshotSchema, SnapshotResultSchema } from './snapshot';
import { GateOutcomeSchema, TaskOutcomeSchema } from './task-outcome';
import { VerificationResultSchema } from './verification';

/**
 * The workflow state as statemachines/root-compromise-response.asl.json builds it: the execution
 * input, and each step's result at the ResultPath the ASL gives it (its output under `Payload`, or
 * what a Catch wrote there). A field is there once its state has run, so all are optional here;
 * each step's input below says what it reads.
 */

/** `$.containAndCollect`: the Parallel's ResultSelector `{"Payload": {"containment.$": "$[0].Payload", "evidence.$": "$[1].Payload"}}`. */
export const ContainAndCollectResultSchema = invoked(z.object({ containment: ContainmentBranchSchema, evidence: EvidenceBranchSchema }));
export type ContainAndCollectResult = z.infer<typeof ContainAndCollectResultSchema>;

export const WorkflowStateSchema = z.object({
  ...ExecutionInputSchema.shape,
  snapshot: SnapshotResultSchema.optional(),
  containAndCollect: ContainAndCollectResultSchema.optional(),
  assessment: AssessmentResultSchema.optional(),
  notification: NotificationResultSchema.optional(),
  /** The "was this you?" Map: zero or one outcome. */
  gate: z.array(GateOutcomeSchema).optional(),
  humanTasks: z.array(TaskOutcomeSchema).optional(),
  verification: VerificationResultSchema.optional(),
  report: ReportResultSchema.optional(),
  /** What the Catch that sent the workflow to Report Failure wrote. */
  failure: CaughtErrorSchema.optional(),
});
export type WorkflowState = z.infer<typeof WorkflowStateSchema>;

// ---------------------------------------------------------------- each top-level step's input: what it reads

/** Snapshot Root Credentials and Collect Evidence read the incident's ids and start only. */
export const SnapshotInputSchema = ExecutionInputSchema;
export type SnapshotInput = z.infer<typeof SnapshotInputSchema>;
export const CollectInputSchema = ExecutionInputSchema;
export type CollectInput = z.infer<typeof CollectInputSchema>;

/**
 * Contain Root Credentials reads the keys and certificates the snapshot saw, and only those: the
 * containment path does not depend on the rest of the snapshot's contract.
 */
const SnapshotSeenSchema = RootSnapshotSchema.pick({ step: true, status: true }).extend({
  root: RootSnapshotSchema.shape.root.pick({ accessKeys: true, signingCertificates: true }),
});
export const ContainInputSchema = ExecutionInputSchema.extend({
  snapshot: z
    .union([invoked(z.discriminatedUnion('status', [SnapshotSeenSchema, notImplemented('snapshot-root-credentials')])), CaughtErrorSchema])
    .optional(),
});
export type ContainInput = z.infer<typeof ContainInputSchema>;

/** Assess Incident reads what the automatic steps reported. */
export const AssessInputSchema = ExecutionInputSchema.extend({
  snapshot: WorkflowStateSchema.shape.snapshot,
  containAndCollect: WorkflowStateSchema.shape.containAndCollect,
});
export type AssessInput = z.infer<typeof AssessInputSchema>;

/** Write Incident Report reads everything that ran. */
export const ReportInputSchema = WorkflowStateSchema;
export type ReportInput = WorkflowState;

/**
 * Report Failure reads the failure and which states ran. It is the last word to the responders,
 * so it checks only the execution input and the failure: a result it does not read never stops it.
 */
export const ReportFailureInputSchema = z.looseObject({ ...ExecutionInputSchema.shape, failure: CaughtErrorSchema.optional() });
export type ReportFailureInput = z.infer<typeof ReportFailureInputSchema>;
