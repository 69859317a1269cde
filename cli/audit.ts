import { GetAlternateContactCommand, type AlternateContactType } from '@aws-sdk/client-account';
import { DescribeTrailsCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { ListRulesCommand } from '@aws-sdk/client-eventbridge';
import { GetDetectorCommand, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { GetAccountSummaryCommand, ListOrganizationsFeaturesCommand, ListVirtualMFADevicesCommand } from '@aws-sdk/client-iam';
import { DescribeOrganizationCommand } from '@aws-sdk/client-organizations';
import { GetObjectLockConfigurationCommand, ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';
import { ListSchedulesCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetSubscriptionAttributesCommand, ListSubscriptionsByTopicCommand, ListTopicsCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { TargetClients } from '#shared/clients';
import type { StageConfig } from '#shared/config';
import { AccessDeniedError, awsCall, AwsCallError, errorName } from '#shared/errors';
import { FORWARDED_RULES, forwardingRuleName } from '#shared/forwarding';
import * as names from '#infra/names.cjs';
import { enabledRegions, everyPage } from '#shared/inventory';
import { readRootAccessPosture, type RootAccessPosture } from '#functions/collect-evidence/root-access-posture';

/**
 * `root-responder audit`: read-only checks of a live account (or organization), answering two
 * questions before an incident, not during one: would the responder work here, and is root safe
 * now? Each check says pass, fail or unknown (a read was refused or is not possible from here),
 * with the reason and the fix. Nothing is changed.
 */
export type AuditStatus = 'pass' | 'fail' | 'unknown';

export interface AuditCheck {
  id: string;
  title: string;
  status: AuditStatus;
  detail: string;
  fix?: string;
}

export interface AuditClients {
  /** This account (IAM, Account, Organizations from us-east-1; CloudTrail, GuardDuty, EventBridge, STS per region). */
  target: TargetClients;
  sns(region: string): Pick<SNSClient, 'send'>;
  s3(): Pick<S3Client, 'send'>;
  scheduler(region: string): Pick<SchedulerClient, 'send'>;
}

export interface AuditOptions {
  /** The deployed stage whose resources are checked (names derive from it). */
  stage: string;
  accountId: string;
  /** The stage configuration, when there is one: baselines (contacts) and the expected Object Lock mode. */
  config?: StageConfig;
  /** The evidence bucket, when its name cannot be found by the stack's naming. */
  bucket?: string;
  /** The region the responder runs in. */
  region?: string;
  /**
   * Also check each member account's root credentials (an AssumeRoot audit session per member).
   * Off by default: the responder sees those sessions' member-side events as root activity.
   */
  members?: boolean;
  now?: () => Date;
}

const CONTACT_TYPES: AlternateContactType[] = ['SECURITY', 'OPERATIONS', 'BILLING'];

/** A check that could not read what it needs: unknown, with the refusal named, never a guess. */
function unknown(id: string, title: string, error: unknown, fix: string): AuditCheck {
  const name = errorName(error);
  const refused = error instanceof AccessDeniedError || name === 'AccessDeniedError' || /AccessDenied/.test(name);
  return {
    id,
    title,
    status: 'unknown',
    detail: `${refused ? 'Refused' : 'Could not read'}: ${(error as Error).message ?? name}`.slice(0, 400),
    fix,
  };
}

function causeName(error: unknown): string {
  return error instanceof AwsCallError ? errorName(error.cause) : errorName(error);
}

async function rootCredentials(clients: AuditClients): Promise<AuditCheck[]> {
  let summary: Record<string, number>;
  try {
    summary = (await awsCall('iam:GetAccountSummary', () => clients.target.iam().send(new GetAccountSummaryCommand({})))).SummaryMap ?? {};
  } catch (error) {
    const fix = 'Allow iam:GetAccountSummary and iam:ListVirtualMFADevices to the identity running the audit.';
    return [
      unknown('root-mfa', 'Root MFA', error, fix),
      unknown('root-access-keys', 'Root access keys', error, fix),
      unknown('root-signing-certificates', 'Root signing certificates', error, fix),
    ];
  }
  const checks: AuditCheck[] = [];
  if (summary['AccountMFAEnabled'] !== 1) {
    checks.push({
      id: 'root-mfa',
      title: 'Root MFA',
      status: 'fail',
      detail: 'Root has no MFA device (AccountMFAEnabled = 0).',
      fix: 'Sign in as root and register a FIDO2 security key (two, kept apart), under two-person control.',
    });
  } else {
    try {
      const devices = await everyPage(async (marker) => {
        const out = await awsCall('iam:ListVirtualMFADevices', () =>
          clients.target
            .iam()
            .send(new ListVirtualMFADevicesCommand({ AssignmentStatus: 'Assigned', ...(marker ? { Marker: marker } : {}) })),
        );
        return { items: out.VirtualMFADevices, next: out.IsTruncated ? out.Marker : undefined };
      });
      const virtual = devices.filter((d) => d.User?.Arn?.endsWith(':root'));
      checks.push(
        virtual.length > 0
          ? {
              id: 'root-mfa',
              title: 'Root MFA',
              status: 'fail',
              detail: `Root's MFA is a virtual (TOTP) device: ${virtual.map((d) => d.SerialNumber).join(', ')}. A phished code works for an attacker; a FIDO2 key does not.`,
              fix: 'Register a FIDO2 security key for root, then remove the virtual device.',
            }
          : {
              id: 'root-mfa',
              title: 'Root MFA',
              status: 'pass',
              detail:
                'Root has MFA, and none of it is a virtual device (a FIDO2 or hardware key; which one can only be read in an AssumeRoot audit session).',
            },
      );
    } catch (error) {
      checks.push(unknown('root-mfa', 'Root MFA', error, 'Allow iam:ListVirtualMFADevices to the identity running the audit.'));
    }
  }
  const keys = summary['AccountAccessKeysPresent'] ?? 0;
  checks.push(
    keys === 0
      ? { id: 'root-access-keys', title: 'Root access keys', status: 'pass', detail: 'Root has no access keys.' }
      : {
          id: 'root-access-keys',
          title: 'Root access keys',
          status: 'fail',
          detail: 'Root has an access key (AccountAccessKeysPresent = 1).',
          fix: 'Sign in as root, Security credentials > Access keys: delete every key (in a member account: `aws iam delete-access-key` in an AssumeRoot session).',
        },
  );
  const certificates = summary['AccountSigningCertificatesPresent'] ?? 0;
  checks.push(
    certificates === 0
      ? {
          id: 'root-signing-certificates',
          title: 'Root signing certificates',
          status: 'pass',
          detail: 'Root has no X.509 signing certificates.',
        }
      : {
          id: 'root-signing-certificates',
          title: 'Root signing certificates',
          status: 'fail',
          detail: 'Root has a signing certificate (AccountSigningCertificatesPresent = 1).',
          fix: 'Sign in as root, Security credentials > X.509 certificates: delete them.',
        },
  );
  return checks;
}

async function alternateContacts(clients: AuditClients, options: AuditOptions): Promise<AuditCheck> {
  const id = 'alternate-contacts';
  const title = 'Alternate contacts';
  const expected = options.config?.expectedAlternateContacts ?? {};
  const problems: string[] = [];
  try {
    for (const type of CONTACT_TYPES) {
      let contact: { Name?: string; Title?: string; EmailAddress?: string; PhoneNumber?: string } | null;
      try {
        contact =
          (
            await awsCall('account:GetAlternateContact', () =>
              clients.target.account().send(new GetAlternateContactCommand({ AlternateContactType: type })),
            )
          ).AlternateContact ?? null;
      } catch (error) {
        if (causeName(error) !== 'ResourceNotFoundException') throw error;
        contact = null;
      }
      const want = expected[type];
      if (!contact) {
        if (want || type === 'SECURITY') problems.push(`${type} is not set${want ? ` (expected ${want.emailAddress})` : ''}`);
        continue;
      }
      if (want) {
        const diff = (['name', 'title', 'emailAddress', 'phoneNumber'] as const).filter(
          (f) =>
            (contact as Record<string, string | undefined>)[
              f === 'emailAddress' ? 'EmailAddress' : f === 'phoneNumber' ? 'PhoneNumber' : f === 'name' ? 'Name' : 'Title'
            ] !== want[f],
        );
        if (diff.length > 0)
          problems.push(`${type} differs from the stage config in ${diff.join(', ')} (now ${contact.EmailAddress ?? '?'})`);
      }
    }
  } catch (error) {
    return unknown(id, title, error, 'Allow account:GetAlternateContact to the identity running the audit.');
  }
  if (problems.length > 0)
    return {
      id,
      title,
      status: 'fail',
      detail: problems.join('; '),
      fix: "Set the alternate contacts (Account > Alternate contacts, or `aws account put-alternate-contact`) to the people in the stage config; an attacker who changed SECURITY receives AWS's security notices.",
    };
  return {
    id,
    title,
    status: 'pass',
    detail:
      Object.keys(expected).length > 0
        ? 'Every alternate contact equals the stage config.'
        : 'SECURITY is set (no baseline in a stage config to compare with: pass --stage with config/<stage>.json).',
  };
}

async function trails(clients: AuditClients, regions: string[]): Promise<AuditCheck> {
  const id = 'cloudtrail';
  const title = 'CloudTrail logging in every enabled region';
  try {
    const covered = new Set<string>();
    const checked = new Map<string, boolean>();
    for (const region of regions) {
      // DescribeTrails in a region lists its own trails and the multi-region trails that cover it
      // (shadow trails); a trail's status is read in its home region.
      const list =
        (
          await awsCall('cloudtrail:DescribeTrails', () =>
            clients.target.cloudtrail(region).send(new DescribeTrailsCommand({ includeShadowTrails: true })),
          )
        ).trailList ?? [];
      for (const trail of list) {
        if (!trail.TrailARN || !trail.HomeRegion) continue;
        if (!(trail.IsMultiRegionTrail || trail.HomeRegion === region)) continue;
        let logging = checked.get(trail.TrailARN);
        if (logging === undefined) {
          logging = Boolean(
            (
              await awsCall('cloudtrail:GetTrailStatus', () =>
                clients.target.cloudtrail(trail.HomeRegion!).send(new GetTrailStatusCommand({ Name: trail.TrailARN })),
              )
            ).IsLogging,
          );
          checked.set(trail.TrailARN, logging);
        }
        if (logging) covered.add(region);
      }
    }
    const missing = regions.filter((r) => !covered.has(r));
    if (missing.length > 0)
      return {
        id,
        title,
        status: 'fail',
        detail: `No logging trail covers ${missing.join(', ')}: root activity there would leave no record for the responder to review.`,
        fix: 'Create (or restart) a multi-region trail logging management events, ideally an organization trail.',
      };
    return { id, title, status: 'pass', detail: `A logging trail covers each of the ${regions.length} enabled regions.` };
  } catch (error) {
    return unknown(id, title, error, 'Allow cloudtrail:DescribeTrails and cloudtrail:GetTrailStatus to the identity running the audit.');
  }
}

async function guardDuty(clients: AuditClients, regions: string[]): Promise<AuditCheck> {
  const id = 'guardduty';
  const title = 'GuardDuty in every enabled region';
  try {
    const off: string[] = [];
    for (const region of regions) {
      const detectors =
        (await awsCall('guardduty:ListDetectors', () => clients.target.guardduty(region).send(new ListDetectorsCommand({})))).DetectorIds ??
        [];
      let enabled = false;
      for (const detectorId of detectors) {
        const detector = await awsCall('guardduty:GetDetector', () =>
          clients.target.guardduty(region).send(new GetDetectorCommand({ DetectorId: detectorId })),
        );
        if (detector.Status === 'ENABLED') enabled = true;
      }
      if (!enabled) off.push(region);
    }
    if (off.length > 0)
      return {
        id,
        title,
        status: 'fail',
        detail: `GuardDuty is off in ${off.join(', ')} (its RootCredentialUsage finding is one of the responder's triggers).`,
        fix: 'Enable GuardDuty in every enabled region (organization-wide from the delegated administrator).',
      };
    return { id, title, status: 'pass', detail: `GuardDuty is on in each of the ${regions.length} enabled regions.` };
  } catch (error) {
    return unknown(id, title, error, 'Allow guardduty:ListDetectors and guardduty:GetDetector to the identity running the audit.');
  }
}

async function centralizedRootAccess(clients: AuditClients, options: AuditOptions): Promise<AuditCheck> {
  const id = 'centralized-root-access';
  const title = 'Centralized root access management';
  let managementAccountId: string;
  try {
    managementAccountId =
      (await awsCall('organizations:DescribeOrganization', () => clients.target.organizations().send(new DescribeOrganizationCommand({}))))
        .Organization?.MasterAccountId ?? '';
  } catch (error) {
    if (causeName(error) === 'AWSOrganizationsNotInUseException') {
      return {
        id,
        title,
        status: options.config?.mode === 'organization' ? 'fail' : 'pass',
        detail: 'This account is in no organization: root credentials here can only be removed by a person (the responder asks one).',
        ...(options.config?.mode === 'organization'
          ? {
              fix: "The stage config says organization mode: run the audit in the organization's management or delegated-administrator account.",
            }
          : {}),
      };
    }
    return unknown(id, title, error, 'Allow organizations:DescribeOrganization to the identity running the audit.');
  }
  let posture: RootAccessPosture;
  try {
    if (options.members) posture = await readRootAccessPosture(clients.target, managementAccountId, undefined, options.now);
    else {
      const features =
        (await awsCall('iam:ListOrganizationsFeatures', () => clients.target.iam().send(new ListOrganizationsFeaturesCommand({}))))
          .EnabledFeatures ?? [];
      const enabled = ['RootCredentialsManagement', 'RootSessions'].every((f) => features.some((e) => e === f));
      posture = { features, enabled, membersChecked: 0, membersWithRootCredentials: [], unchecked: [] };
    }
  } catch (error) {
    const name = causeName(error);
    if (name === 'OrganizationNotFoundException' || name === 'ServiceAccessNotEnabledException') {
      return {
        id,
        title,
        status: 'fail',
        detail: `Centralized root access management is not available here (${name}).`,
        fix: 'In the management account: IAM > Root access management > Enable (trusted access for IAM in Organizations, then both features: root credentials management and privileged root actions in member accounts).',
      };
    }
    return unknown(
      id,
      title,
      error,
      'Run the audit in the management account or the delegated administrator for IAM, with iam:ListOrganizationsFeatures, organizations:ListAccounts and sts:AssumeRoot.',
    );
  }
  if (!posture.enabled)
    return {
      id,
      title,
      status: 'fail',
      detail: `Not enabled (features: ${posture.features.join(', ') || 'none'}): the responder cannot delete a member account's root credentials, only ask a person.`,
      fix: 'IAM > Root access management > Enable both features (root credentials management, privileged root actions).',
    };
  const withCredentials = posture.membersWithRootCredentials;
  const unchecked =
    posture.unchecked.length > 0
      ? ` ${posture.unchecked.length} member(s) could not be checked (${posture.unchecked.map((u) => u.accountId).join(', ')}).`
      : '';
  if (!options.members)
    return {
      id,
      title,
      status: 'pass',
      detail:
        "Enabled (both features). Member accounts' root credentials were not checked: --members checks each in an AssumeRoot audit session, which the responder will see as root activity.",
    };
  if (withCredentials.length > 0) {
    return {
      id,
      title,
      status: 'fail',
      detail: `Enabled; ${withCredentials.length} of ${posture.membersChecked} member accounts still have root credentials: ${withCredentials.map((m) => `${m.accountId}${m.accessKeys ? ' (access keys)' : ''}`).join(', ')}.${unchecked}`,
      fix: "Delete those members' root credentials (IAM > Root access management > the account > Delete root user credentials).",
    };
  }
  return {
    id,
    title,
    status: posture.unchecked.length > 0 ? 'unknown' : 'pass',
    detail: `Enabled; none of the ${posture.membersChecked} member accounts checked has root credentials.${unchecked}`,
    ...(posture.unchecked.length > 0 ? { fix: 'Check the named members by hand (AssumeRoot was refused or failed for them).' } : {}),
  };
}

async function forwarding(clients: AuditClients, options: AuditOptions, regions: string[]): Promise<AuditCheck[]> {
  const rules: AuditCheck = { id: 'forwarding-rules', title: 'Root-event rules in every enabled region', status: 'pass', detail: '' };
  const canary: AuditCheck = { id: 'canary', title: 'Pipeline canary schedule in every enabled region', status: 'pass', detail: '' };
  const prefix = forwardingRuleName(options.stage, '');
  const brokenRules: string[] = [];
  const missingCanary: string[] = [];
  try {
    for (const region of regions) {
      const found = await everyPage(async (token) => {
        const out = await awsCall('events:ListRules', () =>
          clients.target
            .events(region)
            .send(new ListRulesCommand({ NamePrefix: prefix, Limit: 100, ...(token ? { NextToken: token } : {}) })),
        );
        return { items: out.Rules, next: out.NextToken };
      });
      // Forwarding stacks name a rule root-responder-<stage>-<id>; the responder's own stack lets
      // CloudFormation name it root-responder-<stage>-<id>-<suffix>: both start with the same prefix.
      for (const ruleId of FORWARDED_RULES) {
        const rule = found.find(
          (r) =>
            r.Name === forwardingRuleName(options.stage, ruleId) || r.Name?.startsWith(`${forwardingRuleName(options.stage, ruleId)}-`),
        );
        if (!rule) brokenRules.push(`${region} ${ruleId} missing`);
        else if (rule.State === 'DISABLED') brokenRules.push(`${region} ${ruleId} disabled`);
      }
    }
  } catch (error) {
    Object.assign(rules, unknown(rules.id, rules.title, error, 'Allow events:ListRules to the identity running the audit.'));
  }
  try {
    for (const region of regions) {
      const schedules = await everyPage(async (token) => {
        const out = await awsCall('scheduler:ListSchedules', () =>
          clients.scheduler(region).send(new ListSchedulesCommand({ NamePrefix: prefix, ...(token ? { NextToken: token } : {}) })),
        );
        return { items: out.Schedules, next: out.NextToken };
      });
      const live = schedules.filter(
        (s) =>
          (s.Name === names.canaryScheduleName(options.stage) || s.Name?.startsWith(`${prefix}CanarySchedule`)) && s.State !== 'DISABLED',
      );
      if (live.length === 0) missingCanary.push(region);
    }
  } catch (error) {
    Object.assign(canary, unknown(canary.id, canary.title, error, 'Allow scheduler:ListSchedules to the identity running the audit.'));
  }
  if (rules.status === 'pass') {
    rules.detail =
      brokenRules.length === 0
        ? `All ${FORWARDED_RULES.length} rules are present and enabled in each of the ${regions.length} enabled regions.`
        : `Broken: ${brokenRules.join('; ')}. Root activity there would not reach the responder.`;
    if (brokenRules.length > 0)
      Object.assign(rules, {
        status: 'fail',
        fix: `Deploy the forwarding template (.serverless/member-forwarding.json, stage ${options.stage}) to those regions, or redeploy the responder stack for its own region.`,
      });
  }
  if (canary.status === 'pass') {
    canary.detail =
      missingCanary.length === 0
        ? `An enabled canary schedule in each of the ${regions.length} enabled regions.`
        : `No enabled canary schedule in ${missingCanary.join(', ')}: the pipeline check cannot tell whether those regions still forward.`;
    if (missingCanary.length > 0)
      Object.assign(canary, { status: 'fail', fix: 'Deploy the forwarding template (it carries the canary schedule) to those regions.' });
  }
  return [rules, canary];
}

async function subscriptions(clients: AuditClients, options: AuditOptions): Promise<AuditCheck> {
  const id = 'sns-subscriptions';
  const title = 'Responders subscribed, confirmed with authentication';
  const region = options.region ?? 'us-east-1';
  try {
    const topics = await everyPage(async (token) => {
      const out = await awsCall('sns:ListTopics', () =>
        clients.sns(region).send(new ListTopicsCommand({ ...(token ? { NextToken: token } : {}) })),
      );
      return { items: out.Topics, next: out.NextToken };
    });
    const ours = topics
      .map((t) => t.TopicArn ?? '')
      .filter((arn) => /-(Alert|Responders|Escalation)Topic-/.test(arn) && arn.split(':').pop()!.startsWith(names.prefix(options.stage)));
    if (ours.length === 0)
      return {
        id,
        title,
        status: 'fail',
        detail: `No ${names.stackName(options.stage)} topics in ${region}: the responder is not deployed here (or under another stage name).`,
        fix: `npx serverless deploy --stage ${options.stage}`,
      };
    const problems: string[] = [];
    let confirmed = 0;
    for (const topicArn of ours) {
      const subs = await everyPage(async (token) => {
        const out = await awsCall('sns:ListSubscriptionsByTopic', () =>
          clients.sns(region).send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, ...(token ? { NextToken: token } : {}) })),
        );
        return { items: out.Subscriptions, next: out.NextToken };
      });
      const topic = topicArn.split(':').pop()!;
      if (subs.length === 0) problems.push(`${topic} has no subscriber`);
      for (const sub of subs) {
        if (!sub.SubscriptionArn || sub.SubscriptionArn === 'PendingConfirmation') {
          problems.push(`${sub.Endpoint} on ${topic} has not confirmed`);
          continue;
        }
        const attributes =
          (
            await awsCall('sns:GetSubscriptionAttributes', () =>
              clients.sns(region).send(new GetSubscriptionAttributesCommand({ SubscriptionArn: sub.SubscriptionArn })),
            )
          ).Attributes ?? {};
        if (attributes['PendingConfirmation'] === 'true') problems.push(`${sub.Endpoint} on ${topic} has not confirmed`);
        else if (attributes['ConfirmationWasAuthenticated'] !== 'true')
          problems.push(
            `${sub.Endpoint} on ${topic} can be unsubscribed by anyone holding an email's link (confirmed without authentication)`,
          );
        else confirmed += 1;
      }
    }
    if (problems.length > 0)
      return {
        id,
        title,
        status: 'fail',
        detail: problems.join('; '),
        fix: 'Have each responder confirm with `npx root-responder confirm-subscription --topic TOPIC_ARN --token TOKEN` (the token is in the confirmation email), so unsubscribing needs AWS credentials.',
      };
    return {
      id,
      title,
      status: 'pass',
      detail: `${confirmed} subscription(s) on ${ours.length} topic(s), each confirmed with authentication.`,
    };
  } catch (error) {
    return unknown(
      id,
      title,
      error,
      'Allow sns:ListTopics, sns:ListSubscriptionsByTopic and sns:GetSubscriptionAttributes to the identity running the audit.',
    );
  }
}

async function evidenceBucket(clients: AuditClients, options: AuditOptions): Promise<AuditCheck> {
  const id = 'evidence-bucket';
  const title = 'Evidence bucket under Object Lock';
  try {
    let bucket = options.bucket;
    if (!bucket) {
      // CloudFormation names it <stack>-evidencebucket-<suffix> (lower case); the stack is root-responder-<stage>.
      const prefix = `${names.prefix(options.stage)}evidencebucket`;
      const buckets = (await awsCall('s3:ListAllMyBuckets', () => clients.s3().send(new ListBucketsCommand({})))).Buckets ?? [];
      bucket = buckets.map((b) => b.Name ?? '').find((name) => name.startsWith(prefix));
      if (!bucket)
        return {
          id,
          title,
          status: 'fail',
          detail: `No bucket named ${prefix}-*: the responder is not deployed here (or pass --bucket).`,
          fix: `npx serverless deploy --stage ${options.stage}`,
        };
    }
    let lock;
    try {
      lock = (
        await awsCall('s3:GetBucketObjectLockConfiguration', () =>
          clients.s3().send(new GetObjectLockConfigurationCommand({ Bucket: bucket })),
        )
      ).ObjectLockConfiguration;
    } catch (error) {
      if (causeName(error) !== 'ObjectLockConfigurationNotFoundError') throw error;
      lock = undefined;
    }
    if (lock?.ObjectLockEnabled !== 'Enabled')
      return {
        id,
        title,
        status: 'fail',
        detail: `${bucket} has no Object Lock: whoever holds root could delete the evidence.`,
        fix: 'Object Lock can only be set when a bucket is created: redeploy the stack (the template creates it with Object Lock).',
      };
    const mode = lock.Rule?.DefaultRetention?.Mode;
    const want = options.config?.objectLockMode ?? 'COMPLIANCE';
    if (mode !== want)
      return {
        id,
        title,
        status: 'fail',
        detail: `${bucket}: default retention ${mode ?? 'none'}, the stage expects ${want}${want === 'COMPLIANCE' ? ' (GOVERNANCE can be lifted by a principal with s3:BypassGovernanceRetention)' : ''}.`,
        fix: `Set objectLockMode in config/${options.stage}.json and redeploy.`,
      };
    const days = lock.Rule?.DefaultRetention?.Days ?? (lock.Rule?.DefaultRetention?.Years ?? 0) * 365;
    return { id, title, status: 'pass', detail: `${bucket}: Object Lock ${mode}, ${days} days by default.` };
  } catch (error) {
    return unknown(
      id,
      title,
      error,
      'Allow s3:ListAllMyBuckets and s3:GetBucketObjectLockConfiguration to the identity running the audit (or pass --bucket).',
    );
  }
}

export async function audit(clients: AuditClients, options: AuditOptions): Promise<AuditCheck[]> {
  let regions: string[];
  let regionsCheck: AuditCheck | undefined;
  try {
    regions = await enabledRegions(clients.target);
  } catch (error) {
    // Without the list of enabled regions, check the responder's own region and say what is missing.
    regions = [options.region ?? 'us-east-1'];
    regionsCheck = unknown(
      'enabled-regions',
      'Enabled regions',
      error,
      "Allow account:ListRegions to the identity running the audit; only the responder's region was checked.",
    );
  }
  const checks = [
    ...(await rootCredentials(clients)),
    await alternateContacts(clients, options),
    await trails(clients, regions),
    await guardDuty(clients, regions),
    await centralizedRootAccess(clients, options),
    ...(await forwarding(clients, options, regions)),
    await subscriptions(clients, options),
    await evidenceBucket(clients, options),
  ];
  return regionsCheck ? [regionsCheck, ...checks] : checks;
}

/** The audit as text, one block per check. */
export function formatAudit(checks: AuditCheck[], accountId: string): string[] {
  const mark = { pass: 'PASS', fail: 'FAIL', unknown: '????' } as const;
  const lines = [`root-responder audit of account ${accountId}`, ''];
  for (const c of checks) {
    lines.push(`${mark[c.status]}  ${c.title}`);
    lines.push(`      ${c.detail}`);
    if (c.fix && c.status !== 'pass') lines.push(`      Fix: ${c.fix}`);
  }
  const count = (s: AuditStatus) => checks.filter((c) => c.status === s).length;
  lines.push('', `${count('pass')} passed, ${count('fail')} failed, ${count('unknown')} unknown.`);
  return lines;
}
