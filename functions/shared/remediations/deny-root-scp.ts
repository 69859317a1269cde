import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  DetachPolicyCommand,
  DuplicatePolicyAttachmentException,
  DuplicatePolicyException,
  ListPoliciesCommand,
  ListPoliciesForTargetCommand,
  PolicyNotAttachedException,
} from '@aws-sdk/client-organizations';
import type { TargetClients } from '../clients';
import type { StepStatus } from '../contracts/common';
import { awsCall, AwsCallError, isAwsError } from '../errors';
import { everyPage } from '../inventory';
import { defineRemediation, type RemediationMeta } from './types';

/**
 * The deny-all-root SCP of one member account: every action is denied when the caller is that
 * account's root user, unless it is an AssumeRoot session (`aws:AssumedRoot` is set only in those),
 * so this responder's own root-task sessions keep working. SCPs are evaluated on every request:
 * attaching it ends what a root session already open in the account can do. They never apply to the
 * management account. Managed from the responder's own account (the management account, or a
 * delegated administrator for Organizations policies); detached by Write Incident Report when the
 * incident closes.
 */
export const denyRootScpName = (accountId: string) => `root-responder-deny-root-${accountId}`;

export function denyRootScpDocument(accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RootResponderDenyRoot',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: {
          ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${accountId}:root` },
          Null: { 'aws:AssumedRoot': 'true' },
        },
      },
    ],
  });
}

const SCP = 'SERVICE_CONTROL_POLICY' as const;

/** The SCPs attached directly to the account (ListPoliciesForTarget, every page). */
async function attachedScps(responder: Pick<TargetClients, 'organizations'>, accountId: string) {
  return everyPage(async (token) => {
    const out = await awsCall('organizations:ListPoliciesForTarget', () =>
      responder
        .organizations()
        .send(new ListPoliciesForTargetCommand({ TargetId: accountId, Filter: SCP, ...(token ? { NextToken: token } : {}) })),
    );
    return { items: out.Policies, next: out.NextToken };
  });
}

/** The account's deny-root SCP: found by name, or created (a concurrent create is found again). */
async function ensurePolicy(responder: TargetClients, accountId: string): Promise<string> {
  const name = denyRootScpName(accountId);
  const find = async () => {
    const all = await everyPage(async (token) => {
      const out = await awsCall('organizations:ListPolicies', () =>
        responder.organizations().send(new ListPoliciesCommand({ Filter: SCP, ...(token ? { NextToken: token } : {}) })),
      );
      return { items: out.Policies, next: out.NextToken };
    });
    return all.find((p) => p.Name === name)?.Id;
  };
  const existing = await find();
  if (existing) return existing;
  try {
    const out = await awsCall('organizations:CreatePolicy', () =>
      responder.organizations().send(
        new CreatePolicyCommand({
          Name: name,
          Type: SCP,
          Description: `root-responder: deny the root user of ${accountId} (AssumeRoot sessions excepted) while an incident is open`,
          Content: denyRootScpDocument(accountId),
        }),
      ),
    );
    const id = out.Policy?.PolicySummary?.Id;
    if (!id) throw new AwsCallError('organizations:CreatePolicy', { cause: new Error('no policy id returned') });
    return id;
  } catch (error) {
    if (!(error instanceof AwsCallError && isAwsError(error, DuplicatePolicyException))) throw error;
    const again = await find();
    if (!again) throw error;
    return again;
  }
}

export const detachCommand = (policyId: string, accountId: string) =>
  `aws organizations detach-policy --policy-id ${policyId} --target-id ${accountId} (from the management account or the delegated administrator)`;

/** Detach the account's deny-root SCP (Write Incident Report, or a person's `incidents close`, when the incident closes). Idempotent. */
export async function detachDenyRootScp(
  responder: Pick<TargetClients, 'organizations'>,
  accountId: string,
): Promise<{ status: StepStatus; detail: string }> {
  const name = denyRootScpName(accountId);
  const policy = (await attachedScps(responder, accountId)).find((p) => p.Name === name);
  if (!policy?.Id) return { status: 'done', detail: `${name} is not attached to ${accountId} (ListPoliciesForTarget).` };
  try {
    await awsCall('organizations:DetachPolicy', () =>
      responder.organizations().send(new DetachPolicyCommand({ PolicyId: policy.Id!, TargetId: accountId })),
    );
  } catch (error) {
    if (!(error instanceof AwsCallError && isAwsError(error, PolicyNotAttachedException))) throw error;
  }
  return { status: 'done', detail: `Detached ${name} (${policy.Id}) from ${accountId}: root of that account is no longer denied by it.` };
}

export const attachDenyRootScpMeta: RemediationMeta<'attach-deny-root-scp'> = {
  action: 'attach-deny-root-scp',
  runsIn: 'organization',
  permissions: {
    run: ['organizations:ListPolicies', 'organizations:CreatePolicy', 'organizations:ListPoliciesForTarget', 'organizations:AttachPolicy'],
    verify: ['organizations:ListPoliciesForTarget'],
    undo: ['organizations:ListPoliciesForTarget', 'organizations:DetachPolicy'],
  },
  reversible: true,
  approvals: 2,
};

export const attachDenyRootScp = /* @__PURE__ */ defineRemediation(attachDenyRootScpMeta, {
  async run({ responder, accountId, member }) {
    if (!member)
      return {
        status: 'skipped',
        detail: `SCPs never apply to the management account, and a standalone account has none: ${accountId} gets no deny-root SCP.`,
      };
    const policyId = await ensurePolicy(responder, accountId);
    // Looked up first: moto 5 accepts a second AttachPolicy silently where AWS answers DuplicatePolicyAttachmentException.
    let already = (await attachedScps(responder, accountId)).some((p) => p.Id === policyId);
    if (!already)
      try {
        await awsCall('organizations:AttachPolicy', () =>
          responder.organizations().send(new AttachPolicyCommand({ PolicyId: policyId, TargetId: accountId })),
        );
      } catch (error) {
        if (!(error instanceof AwsCallError && isAwsError(error, DuplicatePolicyAttachmentException))) throw error;
        already = true;
      }
    return {
      status: 'done',
      detail: `${already ? 'Already attached' : 'Attached'}: SCP ${denyRootScpName(accountId)} (${policyId}) denies every action by the root user of ${accountId} except in AssumeRoot sessions. It is detached when the incident closes.`,
      undo: [detachCommand(policyId, accountId)],
    };
  },
  async verify({ responder, accountId }) {
    const name = denyRootScpName(accountId);
    const attached = (await attachedScps(responder, accountId)).some((p) => p.Name === name);
    return attached
      ? { verified: true, reason: `ListPoliciesForTarget: ${name} is attached to ${accountId}` }
      : { verified: false, reason: `ListPoliciesForTarget: ${name} is not attached to ${accountId}` };
  },
  undoSteps: ({ accountId }) => [detachCommand(`<the id of ${denyRootScpName(accountId)}>`, accountId)],
});
