import { DeactivateMFADeviceCommand, DeleteAccessKeyCommand, DeleteLoginProfileCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { awsCall, AwsCallError, isAwsError } from '../errors';
import type { Remediation, RunContext, RunOutcome } from './types';

/**
 * Root's own credentials in a member account, under an AssumeRoot delete session
 * (IAMDeleteRootUserCredentials). No IAM principal can change them in a standalone or management
 * account: there the matching human task asks a person.
 */
type RootAction = 'delete-root-access-key' | 'deactivate-root-mfa-device' | 'delete-root-password';

const notFound = (error: unknown) => error instanceof AwsCallError && isAwsError(error, NoSuchEntityException);

function rootCredential(
  action: RootAction,
  call: (iam: Awaited<ReturnType<RunContext['rootSession']>>, target: string) => Promise<unknown>,
  options: Pick<Remediation, 'reversible' | 'approvals' | 'undoSteps'>,
): Remediation<RootAction> {
  return {
    action,
    runsIn: 'root-session',
    permissions: { run: ['sts:AssumeRoot'], verify: [] },
    ...options,
    async run(ctx): Promise<RunOutcome> {
      if (!ctx.member)
        return {
          status: 'skipped',
          detail:
            'No IAM principal can change root credentials in a standalone or management account: the matching human task asks a person.',
        };
      const iam = await ctx.rootSession();
      try {
        await call(iam, ctx.target);
      } catch (error) {
        if (!notFound(error)) throw error;
        return { status: 'done', detail: `Already gone: ${ctx.target}.` };
      }
      return { status: 'done', detail: `${action} ${ctx.target} under an AssumeRoot session (IAMDeleteRootUserCredentials).` };
    },
    // The call's own answer is the check (an audit session would read the same state a moment later).
    verify: ({ ran }) => Promise.resolve({ verified: null, reason: `${action}: the result of the call is the check (${ran.detail})` }),
  };
}

export const deleteRootAccessKey = rootCredential(
  'delete-root-access-key',
  (iam, target) => awsCall('iam:DeleteAccessKey', () => iam.send(new DeleteAccessKeyCommand({ AccessKeyId: target }))),
  { reversible: false, approvals: 1, undoSteps: () => ['Not reversible: a deleted access key is gone (root should have none).'] },
);

export const deactivateRootMfaDevice = rootCredential(
  'deactivate-root-mfa-device',
  (iam, target) => awsCall('iam:DeactivateMFADevice', () => iam.send(new DeactivateMFADeviceCommand({ SerialNumber: target }))),
  {
    reversible: false,
    approvals: 2,
    undoSteps: ({ target }) => [
      `Register ${target} again as root (console: Security credentials > Assign MFA device); it needs the device itself.`,
    ],
  },
);

export const deleteRootPassword = rootCredential(
  'delete-root-password',
  (iam) => awsCall('iam:DeleteLoginProfile', () => iam.send(new DeleteLoginProfileCommand({}))),
  {
    reversible: false,
    approvals: 2,
    undoSteps: ({ accountId }) => [
      `aws sts assume-root --target-principal ${accountId} --task-policy-arn arn=arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword, then aws iam create-login-profile with the session (or root password recovery from the sign-in page).`,
    ],
  },
);
