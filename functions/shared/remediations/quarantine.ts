import {
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  NoSuchEntityException,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { awsCall, AwsCallError, isAwsError } from '../errors';
import { defineRemediation, type RemediationMeta } from './types';

/**
 * Quarantining an IAM user root created during the incident: a deny-all inline policy under this
 * name, and its active access keys deactivated. Its console password is kept (an explicit deny on
 * every action leaves a signed-in user nothing to do), so the quarantine is reversible in fact:
 * delete the policy and reactivate the keys. Run Approved Action attaches it; Verify Human Task
 * checks it is there: both use this one name.
 */
export const QUARANTINE_POLICY_NAME = 'root-responder-quarantine';

/** The inline policy attached under QUARANTINE_POLICY_NAME. */
export const QUARANTINE_POLICY_DOCUMENT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'RootResponderQuarantine', Effect: 'Deny', Action: '*', Resource: '*' }],
});

const removePolicy = (user: string) => `aws iam delete-user-policy --user-name ${user} --policy-name ${QUARANTINE_POLICY_NAME}`;
const reactivate = (user: string, key: string) => `aws iam update-access-key --user-name ${user} --access-key-id ${key} --status Active`;

export const quarantineIamUserMeta: RemediationMeta<'quarantine-iam-user'> = {
  action: 'quarantine-iam-user',
  runsIn: 'target-account',
  permissions: {
    run: ['iam:PutUserPolicy', 'iam:ListAccessKeys', 'iam:UpdateAccessKey'],
    verify: ['iam:GetUserPolicy', 'iam:ListAccessKeys'],
  },
  reversible: true,
  approvals: 1,
};

export const quarantineIamUser = /* @__PURE__ */ defineRemediation(quarantineIamUserMeta, {
  async run({ clients, target }) {
    const iam = clients.iam();
    await awsCall('iam:PutUserPolicy', () =>
      iam.send(
        new PutUserPolicyCommand({ UserName: target, PolicyName: QUARANTINE_POLICY_NAME, PolicyDocument: QUARANTINE_POLICY_DOCUMENT }),
      ),
    );
    const keys = await awsCall('iam:ListAccessKeys', () => iam.send(new ListAccessKeysCommand({ UserName: target })));
    const active = (keys.AccessKeyMetadata ?? []).filter((k) => k.Status === 'Active').map((k) => k.AccessKeyId!);
    await Promise.all(
      active.map((id) =>
        awsCall('iam:UpdateAccessKey', () =>
          iam.send(new UpdateAccessKeyCommand({ UserName: target, AccessKeyId: id, Status: 'Inactive' })),
        ),
      ),
    );
    return {
      status: 'done',
      detail: `Attached the deny-all inline policy ${QUARANTINE_POLICY_NAME} and deactivated ${active.length} access key(s)${active.length ? ` (${active.join(', ')})` : ''}; its console password is kept (the policy denies everything it could do).`,
      undo: [removePolicy(target), ...active.map((id) => reactivate(target, id))],
    };
  },
  async verify({ clients, target }) {
    const iam = clients.iam();
    try {
      await awsCall('iam:GetUserPolicy', () =>
        iam.send(new GetUserPolicyCommand({ UserName: target, PolicyName: QUARANTINE_POLICY_NAME })),
      );
    } catch (error) {
      if (error instanceof AwsCallError && isAwsError(error, NoSuchEntityException))
        return { verified: false, reason: `User ${target} has no ${QUARANTINE_POLICY_NAME} policy` };
      throw error;
    }
    const keys = await awsCall('iam:ListAccessKeys', () => iam.send(new ListAccessKeysCommand({ UserName: target })));
    const active = (keys.AccessKeyMetadata ?? []).filter((k) => k.Status === 'Active').map((k) => k.AccessKeyId);
    return active.length === 0
      ? { verified: true, reason: `User ${target} has the deny-all policy and no active access key` }
      : { verified: false, reason: `User ${target} still has active access keys: ${active.join(', ')}` };
  },
  undoSteps: ({ target }) => [
    removePolicy(target),
    `${reactivate(target, '<each key the quarantine deactivated>')} (the result names them)`,
  ],
});
