import {
  GetAccountInformationCommand,
  GetAlternateContactCommand,
  GetContactInformationCommand,
  GetPrimaryEmailCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-account';
import { DescribeTrailsCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { GetDetectorCommand, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import {
  AWSOrganizationsNotInUseException,
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  ListParentsCommand,
} from '@aws-sdk/client-organizations';
import type { TargetClients } from '#shared/clients';
import { CONTACT_TYPES, type ContactType } from '#shared/contracts/evidence-collection';
import { awsCall, AwsCallError, isAwsError } from '#shared/errors';
import type { Finding } from '#shared/findings';
import { enabledRegions } from '#shared/inventory';

/**
 * The account's state as the responder can read it: alternate contacts (unset is a fact, not an
 * error), contact information, enabled regions, organization membership, trails and GuardDuty
 * detectors. A read that is refused is recorded as unavailable, never fatal: evidence collection
 * reports what it could not see and goes on.
 */
export const requiredPermissions = [
  'account:GetAlternateContact',
  'account:GetContactInformation',
  'account:GetAccountInformation',
  'account:ListRegions',
  'organizations:DescribeOrganization',
  'organizations:DescribeAccount',
  'organizations:ListParents',
  'account:GetPrimaryEmail',
  'cloudtrail:DescribeTrails',
  'cloudtrail:GetTrailStatus',
  'guardduty:ListDetectors',
  'guardduty:GetDetector',
] as const;

export interface Contact {
  name?: string;
  title?: string;
  emailAddress?: string;
  phoneNumber?: string;
}

export interface AccountState {
  alternateContacts: Partial<Record<ContactType, Contact | null>>;
  contactInformation: Record<string, unknown> | null;
  accountInformation: { name: string | null; createdAt: string | null } | null;
  regions: string[];
  organization: { id: string; managementAccountId: string } | null;
  /**
   * Organization mode: the member account as the management account sees it (name, root email,
   * status, OU). Each of its three reads stands alone: what one could not read is null (and in
   * `unavailable`), never a guess.
   */
  memberAccount: {
    name: string | null;
    email: string | null;
    primaryEmail: string | null;
    status: string | null;
    parents: string[] | null;
  } | null;
  trails: { name: string; homeRegion: string; multiRegion: boolean; logging: boolean | null }[];
  detectors: { region: string; detectorId: string | null; status: string | null }[];
  unavailable: { what: string; error: string }[];
}

async function attempt<T>(state: Pick<AccountState, 'unavailable'>, what: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if ((error as Error).name === 'TransientAwsError') throw error;
    state.unavailable.push({ what, error: (error as Error).message.slice(0, 300) });
    return undefined;
  }
}

/**
 * @param organization In organization mode for a member account: the responder's own clients
 *   (DescribeAccount and ListParents are served to the management or delegated-admin account).
 */
export async function readAccountState(
  clients: TargetClients,
  organization?: { responder: TargetClients; accountId: string },
): Promise<AccountState> {
  const state: AccountState = {
    alternateContacts: {},
    contactInformation: null,
    accountInformation: null,
    memberAccount: null,
    regions: [],
    organization: null,
    trails: [],
    detectors: [],
    unavailable: [],
  };
  const account = clients.account();

  state.regions = (await attempt(state, 'enabled regions (account:ListRegions)', () => enabledRegions(clients))) ?? [];
  if (state.regions.length === 0) state.regions = ['us-east-1'];

  await Promise.all([
    ...CONTACT_TYPES.map((type) =>
      attempt(state, `${type} alternate contact`, async () => {
        try {
          const out = await awsCall('account:GetAlternateContact', () =>
            account.send(new GetAlternateContactCommand({ AlternateContactType: type })),
          );
          const c = out.AlternateContact;
          state.alternateContacts[type] = { name: c?.Name, title: c?.Title, emailAddress: c?.EmailAddress, phoneNumber: c?.PhoneNumber };
        } catch (error) {
          if (error instanceof AwsCallError && isAwsError(error, ResourceNotFoundException)) state.alternateContacts[type] = null;
          else throw error;
        }
      }),
    ),
    attempt(state, 'contact information', async () => {
      const out = await awsCall('account:GetContactInformation', () => account.send(new GetContactInformationCommand({})));
      state.contactInformation = (out.ContactInformation as Record<string, unknown> | undefined) ?? null;
    }),
    attempt(state, 'account information', async () => {
      const out = await awsCall('account:GetAccountInformation', () => account.send(new GetAccountInformationCommand({})));
      state.accountInformation = {
        name: out.AccountName ?? null,
        createdAt: out.AccountCreatedDate ? new Date(out.AccountCreatedDate).toISOString() : null,
      };
    }),
    attempt(state, 'organization membership', async () => {
      try {
        const out = await awsCall('organizations:DescribeOrganization', () =>
          clients.organizations().send(new DescribeOrganizationCommand({})),
        );
        state.organization = { id: out.Organization?.Id ?? '', managementAccountId: out.Organization?.MasterAccountId ?? '' };
      } catch (error) {
        if (error instanceof AwsCallError && isAwsError(error, AWSOrganizationsNotInUseException)) state.organization = null;
        else throw error;
      }
    }),
    ...(organization ? [readMemberAccount(state, organization.responder, organization.accountId)] : []),
    readTrails(clients, state.regions).then((read) => {
      state.trails = read.trails;
      state.unavailable.push(...read.unavailable);
    }),
    ...state.regions.map((region) =>
      attempt(state, `GuardDuty in ${region}`, async () => {
        const gd = clients.guardduty(region);
        const list = await awsCall('guardduty:ListDetectors', () => gd.send(new ListDetectorsCommand({})));
        const id = list.DetectorIds?.[0];
        if (!id) {
          state.detectors.push({ region, detectorId: null, status: null });
          return;
        }
        const detector = await awsCall('guardduty:GetDetector', () => gd.send(new GetDetectorCommand({ DetectorId: id })));
        state.detectors.push({ region, detectorId: id, status: detector.Status ?? null });
      }),
    ),
  ]);
  state.detectors.sort((a, b) => a.region.localeCompare(b.region));
  return state;
}

/**
 * The member account from the management account: DescribeAccount, ListParents and GetPrimaryEmail
 * at once, each kept on its own (allSettled): a refused GetPrimaryEmail must not lose the name, status
 * and OU the other two answered. A refusal is recorded in `unavailable`; a transient failure is
 * thrown, so the state machine's Retry runs the step again.
 */
async function readMemberAccount(state: AccountState, responder: TargetClients, accountId: string): Promise<void> {
  const orgs = responder.organizations();
  const [described, parents, primary] = await Promise.all([
    attempt(state, 'member account (organizations:DescribeAccount)', () =>
      awsCall('organizations:DescribeAccount', () => orgs.send(new DescribeAccountCommand({ AccountId: accountId }))),
    ),
    attempt(state, 'member account parents (organizations:ListParents)', () =>
      awsCall('organizations:ListParents', () => orgs.send(new ListParentsCommand({ ChildId: accountId }))),
    ),
    // The root user's email (the password recovery path), as the Account API has it now.
    attempt(state, 'member account primary email (account:GetPrimaryEmail)', () =>
      awsCall('account:GetPrimaryEmail', () => responder.account().send(new GetPrimaryEmailCommand({ AccountId: accountId }))),
    ),
  ]);
  if (!described && !parents && !primary) return;
  state.memberAccount = {
    name: described?.Account?.Name ?? null,
    email: described?.Account?.Email ?? null,
    primaryEmail: primary?.PrimaryEmail ?? null,
    status: described?.Account?.Status ?? null,
    parents: parents ? (parents.Parents ?? []).map((p) => p.Id ?? '') : null,
  };
}

/**
 * Every trail of the account: DescribeTrails in every enabled region (a region lists its own trails
 * and the shadows of multi-region trails, never another region's single-region trail: see
 * shared/trails.ts for what CloudTrail documents), one entry per TrailARN, in region order; each
 * trail's status from its home region, by ARN. A region that refuses is recorded, the others kept.
 */
export async function readTrails(
  clients: Pick<TargetClients, 'cloudtrail'>,
  regions: readonly string[],
): Promise<{ trails: AccountState['trails']; unavailable: AccountState['unavailable'] }> {
  const read: { unavailable: AccountState['unavailable'] } = { unavailable: [] };
  const perRegion = await Promise.all(
    regions.map(
      async (region) =>
        (await attempt(read, `CloudTrail trails in ${region}`, async () => {
          const out = await awsCall(`cloudtrail:DescribeTrails ${region}`, () =>
            clients.cloudtrail(region).send(new DescribeTrailsCommand({ includeShadowTrails: true })),
          );
          return out.trailList ?? [];
        })) ?? [],
    ),
  );
  const byArn = new Map<string, (typeof perRegion)[number][number]>();
  for (const [i, list] of perRegion.entries()) {
    for (const t of list) {
      const home = t.HomeRegion ?? regions[i]!;
      const key = t.TrailARN ?? `${home}/${t.Name ?? ''}`;
      if (!byArn.has(key)) byArn.set(key, { ...t, HomeRegion: home });
    }
  }
  const trails = await Promise.all(
    [...byArn.values()].map(async (t) => {
      const home = t.HomeRegion!;
      const status = await attempt(read, `trail status of ${t.Name} (${home})`, () =>
        awsCall(`cloudtrail:GetTrailStatus ${home}`, () =>
          clients.cloudtrail(home).send(new GetTrailStatusCommand({ Name: t.TrailARN ?? t.Name })),
        ),
      );
      return {
        name: t.Name ?? '',
        homeRegion: home,
        multiRegion: t.IsMultiRegionTrail ?? false,
        logging: status ? (status.IsLogging ?? false) : null,
      };
    }),
  );
  return { trails, unavailable: read.unavailable };
}

const norm = (v: string | undefined) => (v ?? '').trim().toLowerCase();

/** Findings from the state compared with the configured baseline. */
export function stateFindings(
  state: AccountState,
  baseline: { alternateContacts: Partial<Record<ContactType, Contact>>; expectedOrganizationId: string | null },
): Finding[] {
  const findings: Finding[] = [];
  for (const type of CONTACT_TYPES) {
    const expected = baseline.alternateContacts[type];
    if (!expected || !(type in state.alternateContacts)) continue;
    const actual = state.alternateContacts[type];
    const differing = (['name', 'title', 'emailAddress', 'phoneNumber'] as const).filter((f) => norm(actual?.[f]) !== norm(expected[f]));
    if (differing.length > 0) {
      findings.push({
        id: `alternate-contact-${type.toLowerCase()}-differs`,
        category: 'account-settings',
        severity: 'critical',
        title: `${type} alternate contact ${actual ? 'differs from' : 'is missing; expected'} the baseline`,
        detail: actual
          ? `Fields that differ: ${differing.join(', ')}. Now: ${actual.emailAddress ?? 'no email'}; expected: ${expected.emailAddress ?? 'no email'}.`
          : `Expected ${expected.emailAddress ?? 'a contact'}.`,
        evidence: [`account/alternate-contacts.json#${type}`],
      });
    }
  }
  for (const trail of state.trails) {
    if (trail.logging === false)
      findings.push({
        id: `trail-not-logging-${trail.name}`,
        category: 'logging-tampering',
        severity: 'critical',
        title: `Trail ${trail.name} (${trail.homeRegion}) is not logging`,
        detail: 'CloudTrail is the record of what root did; a stopped trail hides it.',
        evidence: ['account/trails.json'],
      });
  }
  if (state.trails.length === 0 && !state.unavailable.some((u) => u.what.startsWith('CloudTrail trails'))) {
    findings.push({
      id: 'no-trail',
      category: 'logging-tampering',
      severity: 'high',
      title: 'No CloudTrail trail exists',
      detail: 'Only the 90-day event history is available; root API calls are not delivered to EventBridge without a trail.',
      evidence: ['account/trails.json'],
    });
  }
  for (const d of state.detectors) {
    if (d.status !== 'ENABLED')
      findings.push({
        id: `guardduty-${d.region}`,
        category: 'detection-tampering',
        severity: 'high',
        title: `GuardDuty is ${d.detectorId ? 'disabled' : 'not set up'} in ${d.region}`,
        detail: 'GuardDuty reports root credential use and much else an attacker does.',
        evidence: ['account/guardduty.json'],
      });
  }
  if (
    baseline.expectedOrganizationId &&
    state.organization?.id !== baseline.expectedOrganizationId &&
    !state.unavailable.some((u) => u.what === 'organization membership')
  ) {
    findings.push({
      id: 'organization-membership',
      category: 'organization',
      severity: 'critical',
      title: state.organization
        ? `The account is in organization ${state.organization.id}, not ${baseline.expectedOrganizationId}`
        : `The account is no longer in organization ${baseline.expectedOrganizationId}`,
      detail: 'Leaving the organization removes SCPs, the organization trail and central security tooling.',
      evidence: ['account/organization.json'],
    });
  }
  return findings;
}
