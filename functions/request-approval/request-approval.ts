import type { Clock } from '#shared/clock';
import { type ApprovalStore, approvalStorePermissions, newApprovalId } from '#shared/approval-store';
import { notifyPermissions, publish } from '#shared/notify';
import type { TaskDetails } from '#shared/plan';
import { catalogEntry } from '#shared/remediations/index';
import type { ApprovalRequest } from '#shared/contracts/task-item';
import type { SnsSender } from '#shared/sns-types';
import { emailText as mail } from '#shared/text';

/**
 * Request Approval (a waitForTaskToken task): store the approval with the task token, email the
 * responders a link that carries only an opaque id, and return. The workflow then waits until
 * the approvals API sends the decision, or the wait times out into a reminder.
 */
export const requiredPermissions = [...approvalStorePermissions.create, ...notifyPermissions] as const;

/**
 * "This was me" needs two different responders (the runbook's two-person control); a remediation
 * as many as its registry entry says (root credentials and the deny-root SCP: two).
 */
export function requiredApprovals(task: ApprovalRequest['input']['task']): number {
  if (task.kind === 'gate') return 2;
  return task.kind === 'remediation' && task.remediation ? (catalogEntry(task.remediation.action)?.approvals ?? 1) : 1;
}

export interface RequestApprovalDeps {
  approvals: ApprovalStore;
  sns: SnsSender;
  respondersTopicArn: string;
  approvalsBaseUrl: string;
  expiryHours: number;
  clock: Clock;
  /** The task's text by id (plan.json of the assessment). */
  taskDetails: TaskDetails;
  newId?: () => string;
}

export interface ApprovalRequested {
  step: 'request-approval';
  status: 'requested';
  taskId: string;
  expiresAt: string;
}

export async function requestApproval(request: ApprovalRequest, deps: RequestApprovalDeps): Promise<ApprovalRequested> {
  const { input } = request;
  const task = await deps.taskDetails(input.task.id);
  const now = deps.clock.now();
  // The link lives as long as the wait (never past the configured expiry), plus a short grace for a
  // click in flight; a reminder then mails a fresh link and the old one answers 410.
  const lifetime = Math.min(deps.expiryHours * 3600, input.waitSeconds);
  const expiresAt = new Date(now.getTime() + (lifetime + Math.min(60, input.waitSeconds)) * 1000);
  const id = (deps.newId ?? newApprovalId)();
  await deps.approvals.create(id, {
    incidentId: input.incidentId,
    accountId: input.accountId,
    taskId: input.task.id,
    taskKind: input.task.kind,
    title: task.title,
    why: task.why,
    steps: task.steps,
    verification: task.verification,
    severity: input.severity,
    requiredApprovals: requiredApprovals(input.task),
    token: request.token,
    createdAt: now.toISOString(),
    expiresAt: expiresAt.toISOString(),
  });
  const link = `${deps.approvalsBaseUrl.replace(/\/+$/, '')}/approvals/${id}`;
  const reminder =
    input.reminders > 0 ? `Reminder ${input.reminders} of ${input.maxReminders}${input.reason ? `: ${mail(input.reason)}` : ''}\n\n` : '';
  await publish(deps.sns, deps.respondersTopicArn, {
    subject: `[root-responder] ${input.reminders > 0 ? 'Reminder: ' : ''}${task.title}`,
    subjectSuffix: ` (${input.incidentId})`,
    body: [
      reminder + `Incident ${mail(input.incidentId)}, account ${mail(input.accountId)}, severity ${input.severity}.`,
      '',
      `Task: ${mail(task.title)}`,
      'Why:',
      ...task.why.map((w) => `- ${mail(w)}`),
      '',
      'Steps:',
      ...task.steps.map((s, i) => `${i + 1}. ${mail(s)}`),
      '',
      `How it is verified: ${mail(task.verification)}`,
      '',
      `Open this link to record your decision (expires ${expiresAt.toISOString()}; it works once per responder${requiredApprovals(input.task) > 1 ? '; two different responders must approve' : ''}):`,
      link,
    ].join('\n'),
    attributes: { severity: input.severity, taskId: input.task.id },
  });
  return { step: 'request-approval', status: 'requested', taskId: input.task.id, expiresAt: expiresAt.toISOString() };
}
