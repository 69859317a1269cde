import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvidenceBundle, incidentPrefix, INCIDENT_FILES, S3Reader, S3Writer } from '#shared/evidence';
import { taskDetails, type TaskDetails } from '#shared/plan';
import { type HumanTask, HumanTaskSchema, taskRef } from '#shared/contracts/assessment';
import { type StoredPlan, StoredPlanSchema } from '#shared/contracts/incident-files';
import { type TaskItemState, TaskItemStateSchema } from '#shared/contracts/task-item';
import type { WorkflowState } from '#shared/contracts/workflow-state';
import { PROJECT_ROOT } from '#drill/deployment';
import { assessmentSummary, executionInput } from '../helpers-state';
import { EVIDENCE_BUCKET, type MotoAws } from './moto';

/** Step inputs as the state machine hands them over (shapes from shared/contracts/ and the ASL). */
export const OPENED_AT = '2024-03-04T10:00:00.000Z';

export const incidentIdOf = (accountId: string) => `${accountId}-20240304T100000Z-0123456789`;

/** The workflow state for an account's incident: ../helpers-state's execution input, with this layer's ids and timing. */
export function workflowState(accountId: string, extra: Partial<WorkflowState> = {}): WorkflowState {
  const input = executionInput({
    incidentId: incidentIdOf(accountId),
    accountId,
    openedAt: OPENED_AT,
    receivedAt: '2024-03-04T10:03:00.000Z',
    settings: { approvalWaitSeconds: 3600, maxReminders: 2 },
  });
  return { ...input, trigger: { ...input.trigger, categories: [], eventTime: OPENED_AT }, ...extra };
}

export type TaskSpec = Partial<HumanTask> & Pick<HumanTask, 'id'>;

/** A task of the plan in full, as Assess Incident writes it to plan.json. */
export function humanTask(task: TaskSpec): HumanTask {
  return HumanTaskSchema.parse({ kind: 'console', title: task.id, why: ['because'], steps: ['do it'], verification: 'by API', ...task });
}

// ---------------------------------------------------------------- Map items, as the ASL builds them

const ASL = JSON.parse(readFileSync(join(PROJECT_ROOT, 'statemachines/root-compromise-response.asl.json'), 'utf8')) as {
  States: Record<string, { ItemSelector?: unknown }>;
};
/** Both Maps (the gate and the human tasks) build their items with this (tests/statemachines holds them equal). */
const ITEM_SELECTOR = ASL.States['Run Human Tasks']!.ItemSelector;

/** A JSONPath of the ItemSelector: `$$.Map.Item.Value` or a plain `$.a.b`; a missing path is States.Runtime on AWS, so it throws here. */
function resolve(path: string, state: unknown, item: unknown): unknown {
  if (path === '$$.Map.Item.Value') return item;
  if (!/^\$(\.[A-Za-z0-9_]+)+$/.test(path))
    throw new Error(`states.ts cannot evaluate the ItemSelector's ${path}: teach resolve() that path`);
  let value = state;
  for (const key of path.split('.').slice(1)) {
    if (typeof value !== 'object' || value === null || !(key in value))
      throw new Error(`The ItemSelector's ${path} is missing from the state (States.Runtime on AWS)`);
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function select(template: unknown, state: unknown, item: unknown): unknown {
  if (Array.isArray(template)) return template.map((t) => select(t, state, item));
  if (typeof template !== 'object' || template === null) return template;
  return Object.fromEntries(
    Object.entries(template).map(([key, value]) =>
      key.endsWith('.$') ? [key.slice(0, -2), resolve(String(value), state, item)] : [key, select(value, state, item)],
    ),
  );
}

/**
 * A human-task Map item: the ASL's own ItemSelector applied to the state after Assess Incident, with
 * the task's ref (id, kind, remediation) as the Map item value, parsed as the step's handler parses it.
 * The task's text (title, why, steps, verification) is not in it: the steps read it from plan.json.
 */
export function taskItem(accountId: string, task: TaskSpec): TaskItemState {
  const ref = taskRef(humanTask(task));
  const afterAssess = workflowState(accountId, {
    assessment: {
      Payload: assessmentSummary({
        severity: 'critical',
        counts: { findings: 0, remediations: 0, tasks: 1 },
        plan: { askWasItYou: false, closesOnConfirmation: false, gate: [], tasks: [ref] },
      }),
    },
  });
  return TaskItemStateSchema.parse(select(ITEM_SELECTOR, afterAssess, ref));
}

// ---------------------------------------------------------------- plan.json on moto's S3

/**
 * The assessment's plan.json in moto's evidence bucket, per incident: `item` adds a task to the plan,
 * writes it as Assess Incident does (an EvidenceBundle over S3Writer into incidents/<id>/assessment/,
 * on an unrecorded client: seeding, not the step under test), and returns the task's Map item;
 * `details` is the taskDetails the steps' handlers build (S3Reader on the incident's assessment
 * folder, a recorded client: the steps' GetObject is theirs).
 */
export class PlansInS3 {
  private readonly plans = new Map<string, StoredPlan>();

  constructor(
    private readonly aws: MotoAws,
    readonly bucket = EVIDENCE_BUCKET,
  ) {}

  async item(accountId: string, spec: TaskSpec): Promise<TaskItemState> {
    const task = humanTask(spec);
    const incidentId = incidentIdOf(accountId);
    const plan = this.plans.get(incidentId) ?? { askWasItYou: false, closesOnConfirmation: false, gate: [], tasks: [] };
    const list = task.kind === 'gate' ? plan.gate : plan.tasks;
    const at = list.findIndex((t) => t.id === task.id);
    if (at >= 0) list[at] = task;
    else list.push(task);
    if (task.kind === 'gate') plan.askWasItYou = true;
    this.plans.set(incidentId, plan);
    const bundle = new EvidenceBundle(new S3Writer(this.aws.s3Admin(), this.bucket, incidentPrefix(incidentId, 'assessment')));
    await bundle.put(INCIDENT_FILES.assessment.plan, StoredPlanSchema.parse(plan));
    await bundle.finish();
    return taskItem(accountId, task);
  }

  /** A fresh reader per step invocation, as each handler builds one. */
  details(accountId: string): TaskDetails {
    return taskDetails(new S3Reader(this.aws.s3(), this.bucket, incidentPrefix(incidentIdOf(accountId), 'assessment')));
  }

  /** Where the steps read plan.json from. */
  key(accountId: string): string {
    return `${incidentPrefix(incidentIdOf(accountId), 'assessment')}${INCIDENT_FILES.assessment.plan}`;
  }
}
