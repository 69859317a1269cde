import { GetFunctionCommand, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import type { TargetClients } from './clients';
import type { HumanTask } from './contracts/assessment';
import { awsCall, AwsCallError, isAwsError } from './errors';
import type { Exposure } from './exposure';
import { asText, slug } from './text';

/**
 * Compute abuse no API call can simply undo becomes a tracked human task, one per finding:
 * - a quota increase root requested (RequestServiceQuotaIncrease): only AWS Support can withdraw a
 *   pending request. This project carries no Service Quotas client, so its status
 *   (servicequotas:GetRequestedServiceQuotaChange) is not read: the task says so, and the
 *   responder's decision stands.
 * - a Lambda function root created (CreateFunction): delete it if nobody owns it. Verified by
 *   lambda:GetFunction: gone, or kept by the responder's explicit decision (the approval's comment
 *   says "keep").
 */
export const reviewTaskPermissions = ['lambda:GetFunction'] as const;

type Subject = NonNullable<HumanTask['subject']>;

/** The review task a finding's exposure asks for, by id (the finding is resolved by that task). */
export function reviewTaskId(e: Exposure): string | undefined {
  if (e.undo.kind === 'review-function') return `review-function-${slug(e.resource.id)}-${slug(e.resource.region)}`.slice(0, 80);
  if (e.undo.kind === 'review-quota-request') return `review-quota-request-${slug(e.resource.id)}-${slug(e.resource.region)}`.slice(0, 80);
  return undefined;
}

/** One task per quota request or function root made (failed calls made nothing: no task). */
export function reviewTasks(findings: { title: string; evidence: string[]; exposure?: Exposure }[]): HumanTask[] {
  const tasks = new Map<string, HumanTask>();
  for (const f of findings) {
    const e = f.exposure;
    const id = e && !e.event.failed ? reviewTaskId(e) : undefined;
    if (!e || !id || tasks.has(id)) continue;
    const why = [`${f.title} (event ${e.event.id}, from ${e.event.sourceIPAddress ?? 'an unrecorded address'}).`];
    if (e.undo.kind === 'review-function') {
      const subject: Subject = { kind: 'lambda-function', id: e.resource.id, region: e.resource.region };
      tasks.set(id, {
        id,
        kind: 'console',
        title: `Review the Lambda function root created: ${e.resource.id} in ${e.resource.region}`.slice(0, 200),
        why: [...why, 'A function root created can run code with its role, on a schedule or a trigger, long after the incident.'],
        steps: [
          `Lambda console (${e.resource.region}) > Functions > ${e.resource.id}: read its code, its role (${asText(e.change['role'] ?? 'not recorded')}), its triggers and its resource policy.`,
          'Ask who owns it. If nobody does, delete it (Actions > Delete): deleting loses it, so export its code first for the evidence.',
          'If its owner keeps it, approve with a comment that says "keep" and who owns it.',
        ],
        verification: 'lambda:GetFunction: the function is gone, or the approval comment says it is kept and by whom.',
        subject,
      });
    } else {
      const requestId = typeof e.change['requestId'] === 'string' ? e.change['requestId'] : undefined;
      const subject: Subject = {
        kind: 'service-quota-request',
        id: e.resource.id,
        region: e.resource.region,
        ...(requestId ? { requestId } : {}),
      };
      tasks.set(id, {
        id,
        kind: 'console',
        title:
          `Review the quota increase root requested: ${e.resource.id} to ${asText(e.change['desiredValue'] ?? '?')} in ${e.resource.region}`.slice(
            0,
            200,
          ),
        why: [...why, 'A raised quota lets whoever holds the account run more (GPU instances, usually) and the bill follows.'],
        steps: [
          `Service Quotas console (${e.resource.region}) > Quota request history: find request ${requestId ?? `for ${e.resource.id}`} and its status.`,
          'Pending: open a case with AWS Support asking them to withdraw it (no API withdraws a request).',
          'Approved already: ask AWS Support to lower the quota again, or decide to keep it; check the bill for what ran.',
        ],
        verification:
          'Not verified by API: this responder does not read Service Quotas (servicequotas:GetRequestedServiceQuotaChange would show the status); the responder confirms.',
        subject,
      });
    }
  }
  return [...tasks.values()];
}

/** The check after "done": verified, or the reason it is not; null where no API is read. */
export async function verifyReviewTask(
  subject: Subject,
  comment: string | undefined,
  clients: Pick<TargetClients, 'lambda'>,
): Promise<{ verified: boolean | null; reason: string }> {
  if (subject.kind === 'service-quota-request')
    return {
      verified: null,
      reason: `Not checked by API: the status of quota request ${subject.requestId ?? subject.id} (servicequotas:GetRequestedServiceQuotaChange) is not read by this responder; the responder's decision stands${comment ? ` ("${comment}")` : ''}`,
    };
  try {
    await awsCall('lambda:GetFunction', () => clients.lambda(subject.region).send(new GetFunctionCommand({ FunctionName: subject.id })));
  } catch (error) {
    if (error instanceof AwsCallError && isAwsError(error, ResourceNotFoundException))
      return { verified: true, reason: `lambda:GetFunction: ${subject.id} no longer exists in ${subject.region}` };
    throw error;
  }
  if (comment && /\bkeep(s|ing)?\b|\bkept\b/i.test(comment))
    return { verified: true, reason: `lambda:GetFunction: ${subject.id} still exists, kept by the responder's decision: "${comment}"` };
  return {
    verified: false,
    reason: `lambda:GetFunction: ${subject.id} still exists in ${subject.region}: delete it, or approve again with a comment saying who keeps it`,
  };
}
