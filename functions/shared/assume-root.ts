import { AssumeRootCommand } from '@aws-sdk/client-sts';
import type { TargetClients, TempCredentials } from './clients';
import { awsCall, AwsCallError } from './errors';

/**
 * An AssumeRoot session on a member account's root user, from the responder's own role: a
 * regional STS endpoint, at most 900 s, one root-task policy. The caller records the session's
 * key id as ours (intake must not open an incident for its events).
 */
export type RootTaskPolicy = 'IAMAuditRootUserCredentials' | 'IAMDeleteRootUserCredentials';

export const rootTaskPolicyArn = (policy: RootTaskPolicy) => `arn:aws:iam::aws:policy/root-task/${policy}`;

export interface RootSession {
  credentials: TempCredentials;
  expiresAt: Date;
}

export async function assumeRoot(
  responder: TargetClients,
  region: string,
  accountId: string,
  policy: RootTaskPolicy,
  now: Date,
): Promise<RootSession> {
  const out = await awsCall('sts:AssumeRoot', () =>
    responder
      .sts(region)
      .send(new AssumeRootCommand({ TargetPrincipal: accountId, TaskPolicyArn: { arn: rootTaskPolicyArn(policy) }, DurationSeconds: 900 })),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
    throw new AwsCallError('sts:AssumeRoot', { cause: new Error('no credentials returned') });
  return {
    credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
    expiresAt: c.Expiration ? new Date(c.Expiration) : new Date(now.getTime() + 900_000),
  };
}
