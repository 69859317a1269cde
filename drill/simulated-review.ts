import { eventName, eventSource, type JsonObject, obj, str } from '#shared/cloudtrail';
import { slug } from '#shared/text';
import type { SimAccount } from './simulated-aws';

/**
 * The simulated account's Lambda functions, as the review tasks see them (functions/shared/review-tasks.ts):
 * built from the account's own CloudTrail records (CreateFunction adds, DeleteFunction removes; a
 * failed call changes nothing), and what the simulated responders do for a review task in the console.
 */

/** The functions of an account in a region, by name, with their ARN and runtime. */
export function lambdaFunctions(account: SimAccount, region: string): Map<string, { arn: string; runtime: string | null }> {
  const functions = new Map<string, { arn: string; runtime: string | null }>();
  for (const r of account.events[region] ?? []) {
    if (eventSource(r) !== 'lambda.amazonaws.com' || r['errorCode']) continue;
    const p = obj(r['requestParameters']) ?? {};
    const name = nameOf(str(p['functionName']) ?? '');
    if (!name) continue;
    if (eventName(r).startsWith('CreateFunction') && !eventName(r).startsWith('CreateFunctionUrl'))
      functions.set(name, {
        arn: str(obj(r['responseElements'])?.['functionArn']) ?? `arn:aws:lambda:${region}:${account.accountId}:function:${name}`,
        runtime: str(p['runtime']) ?? null,
      });
    if (eventName(r).startsWith('DeleteFunction') && !eventName(r).startsWith('DeleteFunctionUrl')) functions.delete(name);
  }
  return functions;
}

/** A function name, or the name inside a function ARN (arn:aws:lambda:region:account:function:name[:qualifier]). */
const nameOf = (nameOrArn: string) => (nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[6] ?? '') : nameOrArn);

/** lambda:GetFunction, as Lambda answers it: the configuration, or ResourceNotFoundException (404). */
export function reviewCall(
  account: SimAccount,
  region: string,
  command: string,
  input: Record<string, unknown>,
  fail: (name: string, message: string, status: number) => Error,
): unknown {
  if (command !== 'GetFunctionCommand') throw fail('UnsupportedOperation', `The simulated account does not implement ${command}`, 400);
  const name = nameOf(typeof input['FunctionName'] === 'string' ? input['FunctionName'] : '');
  const fn = lambdaFunctions(account, region).get(name);
  if (!fn)
    throw fail('ResourceNotFoundException', `Function not found: arn:aws:lambda:${region}:${account.accountId}:function:${name}`, 404);
  return { Configuration: { FunctionName: name, FunctionArn: fn.arn, ...(fn.runtime ? { Runtime: fn.runtime } : {}) } };
}

/**
 * What a simulated responder does for a review task: deletes the function root created (nobody owns
 * it in a drill), as the responder's own administrator role, not as root, recorded as CloudTrail
 * records it; or asks AWS Support to withdraw the quota request (nothing an API records). Returns
 * the change, or undefined when the task is not a review task.
 */
export function doReviewWork(account: SimAccount, taskId: string, at: string, sourceIPAddress: string): string | undefined {
  if (taskId.startsWith('review-quota-request-')) return 'asked AWS Support to withdraw the quota request';
  if (!taskId.startsWith('review-function-')) return undefined;
  for (const region of Object.keys(account.events))
    for (const [name] of lambdaFunctions(account, region)) {
      if (`review-function-${slug(name)}-${slug(region)}`.slice(0, 80) !== taskId) continue;
      account.events[region]!.push({
        eventVersion: '1.08',
        eventID: `drill-${taskId}-${Date.parse(at)}`,
        eventTime: at,
        eventSource: 'lambda.amazonaws.com',
        eventName: 'DeleteFunction20150331',
        awsRegion: region,
        sourceIPAddress,
        userAgent: 'console.amazonaws.com',
        userIdentity: {
          type: 'AssumedRole',
          accountId: account.accountId,
          arn: `arn:aws:sts::${account.accountId}:assumed-role/IncidentResponder/responder`,
          principalId: 'AROADRILLRESPONDER:responder',
        },
        requestParameters: { functionName: name },
        responseElements: null,
        readOnly: false,
        eventType: 'AwsApiCall',
        recipientAccountId: account.accountId,
      } satisfies JsonObject);
      return `deleted Lambda function ${name} in ${region} (nobody owns it)`;
    }
  return undefined;
}
