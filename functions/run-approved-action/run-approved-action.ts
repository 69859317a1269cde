import { PutAlternateContactCommand } from '@aws-sdk/client-account';
import { StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import {
  DeactivateMFADeviceCommand,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  ListAccessKeysCommand,
  NoSuchEntityException,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { assumeRoot } from '#shared/assume-root';
import { QUARANTINE_POLICY_DOCUMENT, QUARANTINE_POLICY_NAME } from '#shared/remediations/quarantine';
import { locateTrail } from '#shared/trails';
import type { TargetClients } from '#shared/clients';
import type { Clock } from '#shared/clock';
import { awsCall, AwsCallError, isAwsError, TransientAwsError } from '#shared/errors';
import { evidenceReadPermissions } from '#shared/evidence';
import type { TaskDetails } from '#shared/plan';
import type { ActionResult } from '#shared/contracts/action-result';
import type { StepStatus } from '#shared/contracts/common';
import type { TaskItemState } from '#shared/contracts/task-item';
import type { RecordOwnSession } from '#shared/own-session-store';

/**
 * Run Approved Action: an approved remediation acts at once, inside its own Map item (the
 * attacker's admin user is quarantined when its approval arrives, not after every other task).
 * Every action is reversible or restores a known baseline, and is idempotent. Actions on root
 * credentials run under an AssumeRoot delete session and only in member accounts; elsewhere no IAM
 * principal can make them, which the result says.
 */
export const requiredPermissions = [
  'iam:PutUserPolicy',
  'iam:ListAccessKeys',
  'iam:UpdateAccessKey',
  'iam:DeleteLoginProfile',
  'account:PutAlternateContact',
  'cloudtrail:DescribeTrails',
  'cloudtrail:StartLogging',
  'sts:AssumeRoot',
  // An action not built yet is handed back in the task's own words, from the assessment's plan.json.
  ...evidenceReadPermissions,
] as const;

export interface RunActionDeps {
  /** The target account, with the rights remediations need (own role, or a member's write role). */
  clients: TargetClients;
  /** The responder's own role: AssumeRoot for root-credential actions. */
  responder: TargetClients;
  member: boolean;
  clock: Clock;
  baseline: {
    alternateContacts: Partial<
      Record<'BILLING' | 'OPERATIONS' | 'SECURITY', { name?: string; title?: string; emailAddress?: string; phoneNumber?: string }>
    >;
  };
  recordOwnSession?: RecordOwnSession;
  /** The task's text by id (plan.json of the assessment). */
  taskDetails: TaskDetails;
}

/** IAM's not-found (wire code NoSuchEntity), as SDK v3 names it. */
const notFound = (error: unknown) => error instanceof AwsCallError && isAwsError(error, NoSuchEntityException);

async function rootSession(state: TaskItemState, deps: RunActionDeps) {
  const session = await assumeRoot(
    deps.responder,
    'us-east-1',
    state.Payload.input.accountId,
    'IAMDeleteRootUserCredentials',
    deps.clock.now(),
  );
  await deps.recordOwnSession?.(state.Payload.input.accountId, session.credentials.accessKeyId, session.expiresAt);
  return deps.responder.iam(session.credentials);
}

async function act(
  action: string,
  target: string,
  region: string,
  state: TaskItemState,
  deps: RunActionDeps,
): Promise<{ status: StepStatus; detail: string }> {
  switch (action) {
    case 'quarantine-iam-user': {
      const iam = deps.clients.iam();
      await awsCall('iam:PutUserPolicy', () =>
        iam.send(
          new PutUserPolicyCommand({ UserName: target, PolicyName: QUARANTINE_POLICY_NAME, PolicyDocument: QUARANTINE_POLICY_DOCUMENT }),
        ),
      );
      const keys = await awsCall('iam:ListAccessKeys', () => iam.send(new ListAccessKeysCommand({ UserName: target })));
      const active = (keys.AccessKeyMetadata ?? []).filter((k) => k.Status === 'Active');
      await Promise.all(
        active.map((k) =>
          awsCall('iam:UpdateAccessKey', () =>
            iam.send(new UpdateAccessKeyCommand({ UserName: target, AccessKeyId: k.AccessKeyId!, Status: 'Inactive' })),
          ),
        ),
      );
      let loginProfile = 'deleted its console password';
      try {
        await awsCall('iam:DeleteLoginProfile', () => iam.send(new DeleteLoginProfileCommand({ UserName: target })));
      } catch (error) {
        if (!notFound(error)) throw error;
        loginProfile = 'it had no console password';
      }
      return {
        status: 'done',
        detail: `Attached the deny-all inline policy ${QUARANTINE_POLICY_NAME}, deactivated ${active.length} access key(s)${active.length ? ` (${active.map((k) => k.AccessKeyId).join(', ')})` : ''}, ${loginProfile}. Undo: delete the policy and reactivate the keys.`,
      };
    }
    case 'restore-alternate-contact': {
      const type = target as 'BILLING' | 'OPERATIONS' | 'SECURITY';
      const c = deps.baseline.alternateContacts[type];
      if (!c?.emailAddress || !c.name || !c.title || !c.phoneNumber)
        return {
          status: 'skipped',
          detail: `No complete ${type} contact in the configured baseline (expectedAlternateContacts): nothing to restore from.`,
        };
      await awsCall('account:PutAlternateContact', () =>
        deps.clients.account().send(
          new PutAlternateContactCommand({
            AlternateContactType: type,
            Name: c.name!,
            Title: c.title!,
            EmailAddress: c.emailAddress!,
            PhoneNumber: c.phoneNumber!,
          }),
        ),
      );
      return { status: 'done', detail: `Restored the ${type} alternate contact to ${c.emailAddress}.` };
    }
    case 'restart-trail': {
      // StartLogging works only in the trail's home region (never on a shadow trail): find it first.
      const trail = await locateTrail(deps.clients, region, target);
      if (!trail)
        return {
          status: 'failed',
          detail: `No trail ${target} in ${region} (DescribeTrails lists its own and shadow trails): nothing was restarted.`,
        };
      await awsCall('cloudtrail:StartLogging', () =>
        deps.clients.cloudtrail(trail.homeRegion).send(new StartLoggingCommand({ Name: trail.name })),
      );
      return { status: 'done', detail: `StartLogging on ${trail.name} in its home region ${trail.homeRegion}.` };
    }
    case 'delete-root-access-key':
    case 'deactivate-root-mfa-device':
    case 'delete-root-password': {
      if (!deps.member)
        return {
          status: 'skipped',
          detail:
            'No IAM principal can change root credentials in a standalone or management account: the matching human task asks a person.',
        };
      const iam = await rootSession(state, deps);
      try {
        if (action === 'delete-root-access-key')
          await awsCall('iam:DeleteAccessKey', () => iam.send(new DeleteAccessKeyCommand({ AccessKeyId: target })));
        if (action === 'deactivate-root-mfa-device')
          await awsCall('iam:DeactivateMFADevice', () => iam.send(new DeactivateMFADeviceCommand({ SerialNumber: target })));
        if (action === 'delete-root-password') await awsCall('iam:DeleteLoginProfile', () => iam.send(new DeleteLoginProfileCommand({})));
      } catch (error) {
        if (!notFound(error)) throw error;
        return { status: 'done', detail: `Already gone: ${target}.` };
      }
      return { status: 'done', detail: `${action} ${target} under an AssumeRoot session (IAMDeleteRootUserCredentials).` };
    }
    default:
      return {
        status: 'not-implemented',
        detail: `Running "${action}" is not built yet: do it by hand (${(await deps.taskDetails(state.Payload.input.task.id)).title}).`,
      };
  }
}

export async function runApprovedAction(state: TaskItemState, deps: RunActionDeps): Promise<ActionResult> {
  const task = state.Payload.input.task;
  const base = {
    step: 'run-approved-action' as const,
    taskId: task.id,
    action: task.remediation?.action ?? null,
    target: task.remediation?.target ?? null,
  };
  if (task.kind !== 'remediation' || !task.remediation) {
    return {
      ...base,
      status: 'skipped',
      detail: 'A console task: the responder does it; nothing runs here.',
      at: deps.clock.now().toISOString(),
    };
  }
  const { action, target, region } = task.remediation;
  try {
    const out = await act(action, target, region, state, deps);
    return { ...base, ...out, at: deps.clock.now().toISOString() };
  } catch (error) {
    if (error instanceof TransientAwsError) throw error;
    // A refused or failed change is reported, never hidden: the task stays open with the reason.
    return {
      ...base,
      status: 'failed',
      detail: `${(error as Error).name}: ${(error as Error).message}`.slice(0, 400),
      at: deps.clock.now().toISOString(),
    };
  }
}
