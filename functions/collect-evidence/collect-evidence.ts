import type { TargetClients } from '#shared/clients';
import type { Clock } from '#shared/clock';
import { identity, type JsonObject, mfaUsed, obj, signInOutcome, str } from '#shared/cloudtrail';
import { type EvidenceBundle, INCIDENT_FILES, type ObjectReader, readJson } from '#shared/evidence';
import { z } from 'zod';
import { classifyWindow, type WindowEvent } from '#shared/findings';
import type { KnownSources } from '#shared/known-sources';
import type { LimiterPool, Timer } from '#shared/rate-limit';
import type { ContactType, EvidenceCollection } from '#shared/contracts/evidence-collection';
import type { SignIn } from '#shared/contracts/incident-files';
import type { CollectInput } from '#shared/contracts/workflow-state';
import { isSignInEvent } from '#shared/triage';
import { type Contact, readAccountState, requiredPermissions as statePermissions, stateFindings } from './account-state';
import { type LookupQuery, cloudTrailReviewPermissions, reviewRegions } from '#shared/cloudtrail-review';
import {
  postureFindings,
  readRootAccessPosture,
  requiredPermissions as posturePermissions,
  type RootAccessPosture,
} from './root-access-posture';
import type { RecordOwnSession } from '#shared/own-session-store';
import { asText } from '#shared/text';
import { exposureContext, organizationAccountsPermissions } from '#shared/organization-accounts';

/**
 * Collect Evidence (beside containment): every root CloudTrail event from 7 days before the
 * incident to now in every enabled region, billing console events by their sources, what the
 * principals root created did afterwards, and the account's state. Raw pages and state go to the
 * evidence bundle as they arrive; findings are classified from all of it and written there too
 * (findings.json, sign-ins.json). The output carries counts, the keys of those files and a reference
 * to the bundle, never the events or the findings: a state is at most 256 KiB, and an incident with
 * hundreds of root calls has hundreds of findings.
 */
export const requiredPermissions = [
  ...cloudTrailReviewPermissions,
  ...statePermissions,
  ...posturePermissions,
  ...organizationAccountsPermissions,
] as const;

export const CONTEXT_DAYS = 7;
const BILLING_SOURCES = ['billingconsole.amazonaws.com', 'payments.amazonaws.com', 'tax.amazonaws.com', 'account.amazonaws.com'];

export interface CollectDeps {
  clients: TargetClients;
  /** Organization mode, member account: the responder's own clients, for what only the management account sees. */
  organization?: { responder: TargetClients; managementAccountId: string; member: boolean; recordOwnSession?: RecordOwnSession };
  bundle: EvidenceBundle;
  limiters: LimiterPool;
  timer: Timer;
  clock: Clock;
  known: KnownSources;
  baseline: { alternateContacts: Partial<Record<ContactType, Contact>>; expectedOrganizationId: string | null };
  /** The previous incident of the account (state.previousIncidentId): its verification folder, where its responder activity is. */
  previousVerification?: ObjectReader;
}

const ConfirmedActivitySchema = z.array(z.looseObject({ eventId: z.string(), taskId: z.string(), status: z.string() }));

/**
 * The root work the previous incident's responders did for their tasks, confirmed by its
 * verification: their sign-ins and password change fall in this incident's 7 days of context, and
 * are theirs, not the attacker's. Not readable: nothing is excused (detection fails open).
 */
async function previousResponderEvents(reader: ObjectReader | undefined): Promise<{ ids: Set<string>; unavailable?: string }> {
  if (!reader) return { ids: new Set() };
  try {
    const events = await readJson(reader, INCIDENT_FILES.verification.responderActivity, ConfirmedActivitySchema);
    return { ids: new Set(events.filter((e) => e.status === 'confirmed').map((e) => e.eventId)) };
  } catch (error) {
    if ((error as Error).name === 'TransientAwsError') throw error;
    return { ids: new Set(), unavailable: (error as Error).message.slice(0, 300) };
  }
}

const eventIdOf = (r: JsonObject) => str(r['eventID']) ?? '';

/** Access keys and users root created in the window: their own activity is looked up next. */
function attackerPrincipals(events: WindowEvent[]): { keys: string[]; users: string[] } {
  const keys = new Set<string>();
  const users = new Set<string>();
  for (const { record } of events) {
    if (identity(record)['type'] !== 'Root' || record['errorCode']) continue;
    const params = obj(record['requestParameters']) ?? {};
    const response = obj(record['responseElements']) ?? {};
    if (record['eventName'] === 'CreateUser' && str(params['userName'])) users.add(str(params['userName'])!);
    if (record['eventName'] === 'CreateAccessKey' && str(params['userName'])) {
      const key = str(obj(response['accessKey'])?.['accessKeyId']);
      if (key) keys.add(key);
      users.add(str(params['userName'])!);
    }
  }
  return { keys: [...keys], users: [...users] };
}

export async function collectEvidence(state: CollectInput, deps: CollectDeps): Promise<EvidenceCollection> {
  const end = deps.clock.now();
  const incidentStart = new Date(state.openedAt);
  const contextStart = new Date(incidentStart.getTime() - CONTEXT_DAYS * 86400_000);
  const bundle = deps.bundle;
  const [accountState, posture] = await Promise.all([
    readAccountState(
      deps.clients,
      deps.organization?.member ? { responder: deps.organization.responder, accountId: state.accountId } : undefined,
    ),
    deps.organization
      ? readRootAccessPosture(deps.organization.responder, deps.organization.managementAccountId, deps.organization.recordOwnSession, () =>
          deps.clock.now(),
        ).catch((error: Error): RootAccessPosture | { error: string } => {
          if (error.name === 'TransientAwsError') throw error;
          return { error: error.message.slice(0, 300) };
        })
      : Promise.resolve(undefined),
  ]);
  await Promise.all([
    bundle.put('account/alternate-contacts.json', accountState.alternateContacts),
    bundle.put('account/contact-information.json', accountState.contactInformation),
    bundle.put('account/account-information.json', accountState.accountInformation),
    bundle.put('account/organization.json', { organization: accountState.organization, memberAccount: accountState.memberAccount }),
    bundle.put('account/trails.json', accountState.trails),
    bundle.put('account/guardduty.json', accountState.detectors),
    bundle.put('account/regions.json', accountState.regions),
    ...(posture ? [bundle.put('account/root-access.json', posture)] : []),
  ]);

  const reviewDeps = {
    cloudtrail: (region: string) => deps.clients.cloudtrail(region),
    limiters: deps.limiters,
    timer: deps.timer,
    accountId: state.accountId,
    onPage: async (p: { region: string; query: string; page: number; events: JsonObject[] }) => {
      await bundle.put(`cloudtrail/${p.region}/${p.query}/page-${String(p.page).padStart(4, '0')}.json`, p.events);
    },
  };
  const query = (label: string, key: LookupQuery['attribute']['AttributeKey'], value: string, from: Date): LookupQuery => ({
    label,
    attribute: { AttributeKey: key, AttributeValue: value },
    startTime: from,
    endTime: end,
  });

  // Root in every region (7 days of context plus the window), billing console events in us-east-1.
  const first = await reviewRegions(
    accountState.regions,
    (region) => [
      query('root', 'Username', 'root', contextStart),
      ...(region === 'us-east-1' ? BILLING_SOURCES.map((s) => query(`billing-${s.split('.')[0]}`, 'EventSource', s, incidentStart)) : []),
    ],
    reviewDeps,
  );
  const seen = new Set<string>();
  const windowEvents: WindowEvent[] = [];
  for (const e of first.events) {
    const key = `${e.region}|${eventIdOf(e.record)}|${String(e.record['eventTime'])}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const at = Date.parse(String(e.record['eventTime']));
    if (e.query.startsWith('billing-')) {
      // Billing console events: only those without an identity type or by root; other principals are not this incident.
      const type = identity(e.record)['type'];
      if (type !== undefined && type !== 'Root') continue;
    }
    if (!Number.isNaN(at) && at < incidentStart.getTime() && !isSignInEvent(e.record)) continue; // context: kept in the bundle
    windowEvents.push({ region: e.region, record: e.record, query: e.query.startsWith('billing-') ? 'billing' : e.query });
  }

  // What the principals root created did afterwards.
  const principals = attackerPrincipals(windowEvents);
  const followUp =
    principals.keys.length + principals.users.length > 0
      ? await reviewRegions(
          accountState.regions,
          () => [
            ...principals.keys.map((k) => query(`access-key-${k}`, 'AccessKeyId', k, incidentStart)),
            ...principals.users.map((u) => query(`user-${u}`, 'Username', u, incidentStart)),
          ],
          reviewDeps,
        )
      : { events: [], stats: [] };
  for (const e of followUp.events) windowEvents.push({ region: e.region, record: e.record, query: e.query });

  const signIns: SignIn[] = windowEvents
    .filter((e) => identity(e.record)['type'] === 'Root' && isSignInEvent(e.record) && e.record['eventName'] !== 'PasswordUpdated')
    .map((e) => ({
      at: asText(e.record['eventTime'] ?? ''),
      eventId: eventIdOf(e.record),
      sourceIPAddress: str(e.record['sourceIPAddress']) ?? null,
      userAgent: str(e.record['userAgent']) ?? null,
      outcome: signInOutcome(e.record),
      mfa: mfaUsed(e.record) ?? null,
      knownSource: deps.known.contains(str(e.record['sourceIPAddress'])),
    }))
    .sort((a, b) => a.at.localeCompare(b.at));

  const previous = await previousResponderEvents(deps.previousVerification);
  const classified = classifyWindow(
    windowEvents.filter(
      (e) =>
        !previous.ids.has(eventIdOf(e.record)) &&
        (Date.parse(String(e.record['eventTime'])) >= incidentStart.getTime() || e.query !== 'root' || isSignInEvent(e.record)),
    ),
    // Foreign grantees: outside the organization (organization mode), else any account other than this one.
    { known: deps.known, exposure: await exposureContext(state.accountId, deps.organization?.responder) },
  );
  const findings = [
    ...classified.findings,
    ...stateFindings(accountState, deps.baseline),
    ...(posture && 'enabled' in posture ? postureFindings(posture) : []),
  ];
  await Promise.all([
    bundle.put(INCIDENT_FILES.evidence.findings, { findings, remediations: classified.remediations }),
    bundle.put(INCIDENT_FILES.evidence.signIns, signIns),
    // What this collection saw, so the verification can tell which events arrived late.
    bundle.put(INCIDENT_FILES.evidence.index, {
      regions: accountState.regions,
      incidentStart: incidentStart.toISOString(),
      collectedUntil: end.toISOString(),
      eventIds: [...new Set(first.events.map((e) => eventIdOf(e.record)))].sort(),
    }),
    bundle.put('review.json', {
      window: { contextStart, incidentStart, end },
      queries: [...first.stats, ...followUp.stats],
      unavailable: accountState.unavailable,
      // Events of the window the previous incident's verification confirmed as its responders' work: not findings.
      previousIncident: state.previousIncidentId
        ? { incidentId: state.previousIncidentId, responderEvents: [...previous.ids].sort(), unavailable: previous.unavailable ?? null }
        : null,
    }),
  ]);
  const evidence = await bundle.finish();
  const stats = [...first.stats, ...followUp.stats];
  const calls = stats.reduce((n, s) => n + s.calls, 0);
  return {
    step: 'collect-evidence',
    status: 'done',
    detail: `${stats.reduce((n, s) => n + s.events, 0)} CloudTrail events in ${accountState.regions.length} region(s) (${calls} LookupEvents calls), ${findings.length} finding(s), ${evidence.files} evidence file(s).`,
    window: { contextStart: contextStart.toISOString(), incidentStart: incidentStart.toISOString(), end: end.toISOString() },
    regions: accountState.regions,
    review: {
      calls,
      throttled: stats.reduce((n, s) => n + s.throttled, 0),
      events: stats.reduce((n, s) => n + s.events, 0),
      windowEvents: windowEvents.length,
      queries: stats.filter((s) => s.events > 0 || s.query === 'root').slice(0, 60),
    },
    counts: { findings: findings.length, remediations: classified.remediations.length, signIns: signIns.length },
    keys: { findings: INCIDENT_FILES.evidence.findings, signIns: INCIDENT_FILES.evidence.signIns },
    accountState: {
      accountName: accountState.accountInformation?.name ?? null,
      alternateContacts: Object.fromEntries(Object.entries(accountState.alternateContacts).map(([k, v]) => [k, v ? 'set' : 'unset'])),
      organizationId: accountState.organization?.id ?? null,
      trails: accountState.trails.map((t) => ({ name: t.name, logging: t.logging })),
      guardDutyEnabledRegions: accountState.detectors.filter((d) => d.status === 'ENABLED').map((d) => d.region),
      // A posture that could not be read is one more thing the evidence lacks.
      unavailable: [
        ...accountState.unavailable,
        ...(posture && 'error' in posture ? [{ what: 'centralized root access posture of the organization', error: posture.error }] : []),
        ...(previous.unavailable
          ? [
              {
                what: "the previous incident's responder activity (its responders' root work is reported as findings)",
                error: previous.unavailable,
              },
            ]
          : []),
      ],
    },
    evidence,
  };
}
