import { GetAlternateContactCommand, ResourceNotFoundException } from '@aws-sdk/client-account';
import { LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { GetAccountSummaryCommand } from '@aws-sdk/client-iam';
import { AWSOrganizationsNotInUseException, DescribeOrganizationCommand } from '@aws-sdk/client-organizations';
import type { TargetClients } from '#shared/clients';
import type { Clock } from '#shared/clock';
import { obj, parseLookupEvent, str } from '#shared/cloudtrail';
import { awsCall, AwsCallError, isAwsError } from '#shared/errors';
import { evidenceReadPermissions } from '#shared/evidence';
import { everyPage } from '#shared/inventory';
import type { TaskDetails } from '#shared/plan';
import type { LimiterPool } from '#shared/rate-limit';
import { remediationFor, remediationPermissions } from '#shared/remediations/index';
import type { TaskItemState } from '#shared/contracts/task-item';
import type { TaskVerification } from '#shared/contracts/task-verification';
import { asText } from '#shared/text';
import { reviewTaskPermissions, verifyReviewTask } from '#shared/review-tasks';

/**
 * Verify Human Task: a "done" is checked by API wherever an API can tell, and a check that fails
 * reopens the task with the reason (the state machine sends it round again).
 * - delete-root-access-keys: GetAccountSummary.AccountAccessKeysPresent = 0
 * - enable-root-mfa: GetAccountSummary.AccountMFAEnabled = 1
 * - change-root-password: a root PasswordUpdated (or completed password recovery) after the incident started
 * - review-billing-and-organization: alternate contacts equal the baseline, and the expected organization
 * - an approved remediation: its registry entry's check (functions/shared/remediations/)
 * - a review task (review-tasks.ts): lambda:GetFunction for a function root created; a quota request is not read
 * Anything no API can see (the mailbox, the safe, a call to AWS Support) stays `verified: null`:
 * the responder's decision stands, and the report says it was not checked.
 */
export const requiredPermissions = [
  'iam:GetAccountSummary',
  'cloudtrail:LookupEvents',
  'account:GetAlternateContact',
  'organizations:DescribeOrganization',
  // Each approved remediation's own check (functions/shared/remediations/).
  ...remediationPermissions('verify'),
  ...reviewTaskPermissions,
  // A task no API can check is answered with its own words, from the assessment's plan.json.
  ...evidenceReadPermissions,
] as const;

export interface VerifyTaskDeps {
  clients: TargetClients;
  /** The responder's own account: Organizations (a member's SCPs are read there). Default: `clients` (standalone: the same account). */
  responder?: TargetClients;
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
      const record = parseLookupEvent(e);
      if (!record || obj(record['userIdentity'])?.['type'] !== 'Root') continue;
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
    default: {
      if (task.kind === 'remediation') return verifyRemediation(state, deps, done);
      const details = await deps.taskDetails(task.id);
      if (details.subject) {
        const out = await verifyReviewTask(details.subject, state.decision?.comment, deps.clients);
        return done(out.verified, out.reason);
      }
      return done(null, `No API can see this: "${details.verification}"`);
    }
  }
}

/** Re-read what an approved remediation changed: the registry's own check for its action. */
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
  const entry = remediationFor(action);
  if (!entry) return done(null, `${action}: no check is registered for it (${state.action?.Payload.detail ?? ''})`);
  const out = await entry.verify({
    accountId: state.Payload.input.accountId,
    target,
    region,
    clients: deps.clients,
    responder: deps.responder ?? deps.clients,
    clock: deps.clock,
    baseline: deps.baseline,
    limiters: deps.limiters,
    ran: { detail: state.action?.Payload.detail ?? '' },
  });
  return done(out.verified, out.reason);
}
