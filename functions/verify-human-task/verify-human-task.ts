import { GetAlternateContactCommand, ResourceNotFoundException } from '@aws-sdk/client-account';
import { LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { GetAccountSummaryCommand, GetUserPolicyCommand, ListAccessKeysCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { AWSOrganizationsNotInUseException, DescribeOrganizationCommand } from '@aws-sdk/client-organizations';
import type { TargetClients } from '#shared/clients';
import type { Clock } from '#shared/clock';
import { isObject, obj, str } from '#shared/cloudtrail';
import { awsCall, AwsCallError, isAwsError } from '#shared/errors';
import { evidenceReadPermissions } from '#shared/evidence';
import { everyPage } from '#shared/inventory';
import type { TaskDetails } from '#shared/plan';
import type { LimiterPool } from '#shared/rate-limit';
import { QUARANTINE_POLICY_NAME } from '#shared/remediations/quarantine';
import type { TaskItemState } from '#shared/contracts/task-item';
import type { TaskVerification } from '#shared/contracts/task-verification';
import { locateTrail } from '#shared/trails';
import { asText } from '#shared/text';

/**
 * Verify Human Task: a "done" is checked by API wherever an API can tell, and a check that fails
 * reopens the task with the reason (the state machine sends it round again).
 * - delete-root-access-keys: GetAccountSummary.AccountAccessKeysPresent = 0
 * - enable-root-mfa: GetAccountSummary.AccountMFAEnabled = 1
 * - change-root-password: a root PasswordUpdated (or completed password recovery) after the incident started
 * - review-billing-and-organization: alternate contacts equal the baseline, and the expected organization
 * Anything no API can see (the mailbox, the safe, a call to AWS Support) stays `verified: null`:
 * the responder's decision stands, and the report says it was not checked.
 */
export const requiredPermissions = [
  'iam:GetAccountSummary',
  'iam:GetUserPolicy',
  'iam:ListAccessKeys',
  'cloudtrail:LookupEvents',
  'cloudtrail:DescribeTrails',
  'cloudtrail:GetTrailStatus',
  'account:GetAlternateContact',
  'organizations:DescribeOrganization',
  // A task no API can check is answered with its own words, from the assessment's plan.json.
  ...evidenceReadPermissions,
] as const;

export interface VerifyTaskDeps {
  clients: TargetClients;
  clock: Clock;
  /** The container's CloudTrail limiters: the password check shares the 2 calls/s budget. */
  limiters: LimiterPool;
  baseline: {
    alternateContacts: Partial<
      Record<'BILLING' | 'OPERATIONS' | 'SECURITY', { name?: string; title?: string; emailAddress?: string; phoneNumber?: string }>
    >;
    expectedOrganizationId: string | null;
  };
  /** The task's text by id (plan.json of the assessment). */
  taskDetails: TaskDetails;
}

const norm = (v: unknown) =>
  asText(v ?? '')
    .trim()
    .toLowerCase();

async function accountSummary(deps: VerifyTaskDeps): Promise<Record<string, number>> {
  const out = await awsCall('iam:GetAccountSummary', () => deps.clients.iam().send(new GetAccountSummaryCommand({})));
  return out.SummaryMap ?? {};
}

async function passwordChanged(accountId: string, since: Date, deps: VerifyTaskDeps): Promise<string | undefined> {
  const end = deps.clock.now();
  for (const eventName of ['PasswordUpdated', 'PasswordRecoveryCompleted']) {
    // Every page (50 events each): IAM users' password changes are the same event name, and root's
    // can be behind any number of them. Each page waits its turn under the account's 2 calls/s.
    const events = await everyPage(async (token) => {
      await deps.limiters.for(`${accountId}:us-east-1`).take();
      const out = await awsCall('cloudtrail:LookupEvents', () =>
        deps.clients.cloudtrail('us-east-1').send(
          new LookupEventsCommand({
            LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: eventName }],
            StartTime: since,
            EndTime: end,
            MaxResults: 50,
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      return { items: out.Events, next: out.NextToken };
    });
    for (const e of events) {
      let record: unknown;
      try {
        record = JSON.parse(e.CloudTrailEvent ?? '{}');
      } catch {
        continue;
      }
      if (!isObject(record) || obj(record['userIdentity'])?.['type'] !== 'Root') continue;
      const outcome = str(obj(record['responseElements'])?.[eventName]);
      if (outcome === undefined || outcome.toLowerCase() === 'success')
        return `${eventName} at ${str(record['eventTime']) ?? 'an unrecorded time'}`;
    }
  }
  return undefined;
}

export async function verifyHumanTask(state: TaskItemState, deps: VerifyTaskDeps): Promise<TaskVerification> {
  const { task, openedAt } = state.Payload.input;
  const done = (verified: boolean | null, reason: string): TaskVerification => ({
    step: 'verify-human-task',
    status: 'done',
    taskId: task.id,
    verified,
    reason,
    checkedAt: deps.clock.now().toISOString(),
  });
  switch (task.id) {
    case 'delete-root-access-keys': {
      const present = (await accountSummary(deps))['AccountAccessKeysPresent'] ?? 0;
      return present === 0
        ? done(true, 'GetAccountSummary: AccountAccessKeysPresent = 0')
        : done(false, `GetAccountSummary still shows root access keys (AccountAccessKeysPresent = ${present})`);
    }
    case 'enable-root-mfa': {
      const enabled = (await accountSummary(deps))['AccountMFAEnabled'] ?? 0;
      return enabled === 1
        ? done(true, 'GetAccountSummary: AccountMFAEnabled = 1')
        : done(false, 'GetAccountSummary shows root MFA still off (AccountMFAEnabled = 0)');
    }
    case 'change-root-password': {
      const since = new Date(openedAt ?? 0);
      const change = await passwordChanged(state.Payload.input.accountId, since, deps);
      return change
        ? done(true, `CloudTrail: root ${change}`)
        : done(false, `No root password change recorded in CloudTrail since ${since.toISOString()} (events can take minutes to arrive)`);
    }
    case 'review-billing-and-organization': {
      const problems: string[] = [];
      for (const [type, expected] of Object.entries(deps.baseline.alternateContacts)) {
        if (!expected) continue;
        let actual: Record<string, unknown> | undefined;
        try {
          const out = await awsCall('account:GetAlternateContact', () =>
            deps.clients.account().send(new GetAlternateContactCommand({ AlternateContactType: type as 'SECURITY' })),
          );
          actual = out.AlternateContact as Record<string, unknown> | undefined;
        } catch (error) {
          if (!(error instanceof AwsCallError && isAwsError(error, ResourceNotFoundException))) throw error;
        }
        const differs =
          !actual ||
          norm(actual['EmailAddress']) !== norm(expected.emailAddress) ||
          norm(actual['Name']) !== norm(expected.name) ||
          norm(actual['PhoneNumber']) !== norm(expected.phoneNumber);
        if (differs) problems.push(`the ${type} alternate contact does not match the baseline`);
      }
      if (deps.baseline.expectedOrganizationId) {
        try {
          const out = await awsCall('organizations:DescribeOrganization', () =>
            deps.clients.organizations().send(new DescribeOrganizationCommand({})),
          );
          if (out.Organization?.Id !== deps.baseline.expectedOrganizationId)
            problems.push(`the account is in ${out.Organization?.Id ?? 'no organization'}, not ${deps.baseline.expectedOrganizationId}`);
        } catch (error) {
          if (error instanceof AwsCallError && isAwsError(error, AWSOrganizationsNotInUseException))
            problems.push(`the account is in no organization, not ${deps.baseline.expectedOrganizationId}`);
          else throw error;
        }
      }
      if (problems.length > 0) return done(false, problems.join('; '));
      const checked = Object.keys(deps.baseline.alternateContacts).length > 0 || deps.baseline.expectedOrganizationId;
      return checked
        ? done(
            true,
            'Alternate contacts and organization match the baseline; billing, payment methods and support plan were confirmed by the responder',
          )
        : done(null, 'No baseline configured: confirmed by the responder only');
    }
    default:
      if (task.kind === 'remediation') return verifyRemediation(state, deps, done);
      return done(null, `No API can see this: "${(await deps.taskDetails(task.id)).verification}"`);
  }
}

/** Re-read what an approved remediation changed. */
async function verifyRemediation(
  state: TaskItemState,
  deps: VerifyTaskDeps,
  done: (verified: boolean | null, reason: string) => TaskVerification,
): Promise<TaskVerification> {
  const remediation = state.Payload.input.task.remediation;
  const ran = state.action?.Payload.status;
  if (!remediation || ran !== 'done')
    return done(null, `The remediation did not run (${ran ?? 'no result'}): ${state.action?.Payload.detail ?? ''}`.trim());
  const { action, target, region } = remediation;
  switch (action) {
    case 'quarantine-iam-user': {
      const iam = deps.clients.iam();
      try {
        await awsCall('iam:GetUserPolicy', () =>
          iam.send(new GetUserPolicyCommand({ UserName: target, PolicyName: QUARANTINE_POLICY_NAME })),
        );
      } catch (error) {
        if (error instanceof AwsCallError && isAwsError(error, NoSuchEntityException))
          return done(false, `User ${target} has no ${QUARANTINE_POLICY_NAME} policy`);
        throw error;
      }
      const keys = await awsCall('iam:ListAccessKeys', () => iam.send(new ListAccessKeysCommand({ UserName: target })));
      const active = (keys.AccessKeyMetadata ?? []).filter((k) => k.Status === 'Active').map((k) => k.AccessKeyId);
      return active.length === 0
        ? done(true, `User ${target} has the deny-all policy and no active access key`)
        : done(false, `User ${target} still has active access keys: ${active.join(', ')}`);
    }
    case 'restore-alternate-contact': {
      const expected = deps.baseline.alternateContacts[target as 'SECURITY'];
      let actual: string | undefined;
      try {
        const out = await awsCall('account:GetAlternateContact', () =>
          deps.clients.account().send(new GetAlternateContactCommand({ AlternateContactType: target as 'SECURITY' })),
        );
        actual = out.AlternateContact?.EmailAddress;
      } catch (error) {
        // Unset: the Account API answers ResourceNotFoundException. Not restored: a failed check, not an error.
        if (!(error instanceof AwsCallError && isAwsError(error, ResourceNotFoundException))) throw error;
      }
      return actual !== undefined && norm(actual) === norm(expected?.emailAddress)
        ? done(true, `The ${target} contact is ${expected?.emailAddress} again`)
        : done(false, `The ${target} contact is ${actual ?? 'unset'}, not ${expected?.emailAddress ?? 'the baseline'}`);
    }
    case 'restart-trail': {
      // The status as the trail's home region has it (a shadow trail answers only by its ARN).
      const trail = await locateTrail(deps.clients, region, target);
      if (!trail) return done(false, `No trail ${target} in ${region} any more`);
      const out = await awsCall('cloudtrail:GetTrailStatus', () =>
        deps.clients.cloudtrail(trail.homeRegion).send(new GetTrailStatusCommand({ Name: trail.ref })),
      );
      return out.IsLogging ? done(true, `Trail ${target} is logging`) : done(false, `Trail ${target} is still not logging`);
    }
    default:
      return done(null, `${action}: the result of the call is the check (${state.action?.Payload.detail ?? ''})`);
  }
}
