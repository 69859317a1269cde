import { DeactivateMFADeviceCommand, DeleteAccessKeyCommand, DeleteLoginProfileCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { awsCall, AwsCallError, isAwsError } from '../errors';
import { defineRemediation, type Remediation, type RemediationMeta, type RunContext, type RunOutcome } from './types';

/**
 * Root's own credentials in a member account, under an AssumeRoot delete session
 * (IAMDeleteRootUserCredentials). No IAM principal can change them in a standalone or management
 * account: there the matching human task asks a person.
 */
type RootAction = 'delete-root-access-key' | 'deactivate-root-mfa-device' | 'delete-root-password';

const notFound = (error: unknown) => error instanceof AwsCallError && isAwsError(error, NoSuchEntityException);

const rootMeta = <A extends RootAction>(action: A, approvals: 1 | 2): RemediationMeta<A> => ({
  action,
  runsIn: 'root-session',
  permissions: { run: ['sts:AssumeRoot'], verify: [] },
  reversible: false,
  approvals,
});

export const deleteRootAccessKeyMeta = /* @__PURE__ */ rootMeta('delete-root-access-key', 1);
export const deactivateRootMfaDeviceMeta = /* @__PURE__ */ rootMeta('deactivate-root-mfa-device', 2);
export const deleteRootPasswordMeta = /* @__PURE__ */ rootMeta('delete-root-password', 2);

function rootCredential<A extends RootAction>(
  meta: RemediationMeta<A>,
  call: (iam: Awaited<ReturnType<RunContext['rootSession']>>, target: string) => Promise<unknown>,
  undoSteps: Remediation['undoSteps'],
): Remediation<A> {
  const { action } = meta;
  return defineRemediation(meta, {
    undoSteps,
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
  });
}

export const deleteRootAccessKey = /* @__PURE__ */ rootCredential(
  deleteRootAccessKeyMeta,
  (iam, target) => awsCall('iam:DeleteAccessKey', () => iam.send(new DeleteAccessKeyCommand({ AccessKeyId: target }))),
  () => ['Not reversible: a deleted access key is gone (root should have none).'],
);

export const deactivateRootMfaDevice = /* @__PURE__ */ rootCredential(
  deactivateRootMfaDeviceMeta,
  (iam, target) => awsCall('iam:DeactivateMFADevice', () => iam.send(new DeactivateMFADeviceCommand({ SerialNumber: target }))),
  ({ target }) => [`Register ${target} again as root (console: Security credentials > Assign MFA device); it needs the device itself.`],
);

export const deleteRootPassword = /* @__PURE__ */ rootCredential(
  deleteRootPasswordMeta,
  (iam) => awsCall('iam:DeleteLoginProfile', () => iam.send(new DeleteLoginProfileCommand({}))),
  ({ accountId }) => [
    `aws sts assume-root --target-principal ${accountId} --task-policy-arn arn=arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword, then aws iam create-login-profile with the session (or root password recovery from the sign-in page).`,
  ],
);
