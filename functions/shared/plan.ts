import { EvidenceReadError } from './errors';
import { INCIDENT_FILES, type ObjectReader, readJson } from './evidence';
import type { HumanTask } from './contracts/assessment';
import { type StoredPlan, StoredPlanSchema } from './contracts/incident-files';

/**
 * The assessment's plan.json, read back by the steps that need a task's text (the approval email,
 * the escalation, the verification's note): a Map item carries only the task's id, kind and
 * remediation. Read once per invocation.
 */
export type TaskDetails = (id: string) => Promise<HumanTask>;

export function readPlan(assessment: ObjectReader): Promise<StoredPlan> {
  return readJson(assessment, INCIDENT_FILES.assessment.plan, StoredPlanSchema);
}

export function taskDetails(assessment: ObjectReader): TaskDetails {
  let plan: Promise<StoredPlan> | undefined;
  return async (id) => {
    plan ??= readPlan(assessment);
    const { gate, tasks } = await plan;
    const task = [...gate, ...tasks].find((t) => t.id === id);
    if (!task) throw new EvidenceReadError(`${INCIDENT_FILES.assessment.plan} has no task "${id}"`);
    return task;
  };
}
