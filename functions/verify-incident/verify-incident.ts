import type { TargetClients } from '#shared/clients';
import type { Clock } from '#shared/clock';
import { type EvidenceBundle, INCIDENT_FILES, type ObjectReader, readJson } from '#shared/evidence';
import { classifyWindow } from '#shared/findings';
import { attributeResponderActivity } from '#shared/responder-activity';
import type { KnownSources } from '#shared/known-sources';
import type { LimiterPool, Timer } from '#shared/rate-limit';
import { type StoredCloudTrailIndex, StoredCloudTrailIndexSchema } from '#shared/contracts/incident-files';
import type { Verification, VerifyIncidentInput } from '#shared/contracts/verification';
import { cloudTrailReviewPermissions, reviewRegions } from '#shared/cloudtrail-review';
import { asText } from '#shared/text';
import { exposureContext, organizationAccountsPermissions } from '#shared/organization-accounts';

/**
 * Verify Incident: CloudTrail delivers events minutes late and out of order, so before the report
 * the root activity of the window is looked up again in every region, and every event the first
 * collection did not see is classified and reported as "arrived after containment". The late
 * events and findings go to its own folder (late-findings.json); the output carries their counts.
 * Root activity that an open root console task explains (the responders changing the password,
 * registering the MFA key) is kept apart in responder-activity.json, not raised as the attacker's,
 * unless the task was rejected or never approved (responder-activity.ts).
 */
export const requiredPermissions = [...cloudTrailReviewPermissions, ...organizationAccountsPermissions] as const;

export interface VerifyDeps {
  clients: TargetClients;
  /** The first collection's bundle (reads cloudtrail-index.json). */
  firstCollection: ObjectReader;
  /** A bundle of its own for what arrived late. */
  bundle: EvidenceBundle;
  limiters: LimiterPool;
  timer: Timer;
  clock: Clock;
  known: KnownSources;
  /** Organization mode: the responder's own clients, to list the organization's accounts (who is foreign). */
  responder?: TargetClients;
}

export async function verifyIncident(state: VerifyIncidentInput, deps: VerifyDeps): Promise<Verification> {
  let index: StoredCloudTrailIndex;
  try {
    index = await readJson(deps.firstCollection, INCIDENT_FILES.evidence.index, StoredCloudTrailIndexSchema);
  } catch (error) {
    if ((error as Error).name === 'TransientAwsError') throw error;
    return {
      step: 'verify-incident',
      status: 'skipped',
      detail: 'The first evidence collection did not finish, so there is nothing to compare late events with; review CloudTrail by hand.',
      lateEvents: 0,
      lateFindings: 0,
      keys: null,
      evidence: null,
    };
  }
  const seen = new Set(index.eventIds);
  const end = deps.clock.now();
  const start = new Date(index.incidentStart);
  const { events } = await reviewRegions(
    index.regions,
    () => [{ label: 'root', attribute: { AttributeKey: 'Username', AttributeValue: 'root' }, startTime: start, endTime: end }],
    {
      cloudtrail: (region) => deps.clients.cloudtrail(region),
      limiters: deps.limiters,
      timer: deps.timer,
      accountId: state.accountId,
    },
  );
  const late = events.filter((e) => !seen.has(asText(e.record['eventID'] ?? '')));
  const { responder, remaining } = attributeResponderActivity(
    late.map((e, i) => ({ ...e, id: asText(e.record['eventID'] ?? `${e.region}-${i}`) })),
    state.humanTasks ?? [],
    { known: deps.known, windowStart: index.collectedUntil },
  );
  const { findings } = classifyWindow(
    remaining.map((e) => ({ region: e.region, record: e.record, query: 'root' })),
    { known: deps.known, exposure: await exposureContext(state.accountId, deps.responder) },
  );
  const raised = responder.filter((r) => r.status === 'raised');
  const lateFindings = findings.map((f) => {
    const notes = raised.filter((r) => f.evidence.includes(r.eventId)).map((r) => r.reason);
    return {
      ...f,
      id: `late-${f.id}`,
      title: `Arrived after the first collection: ${f.title}`,
      ...(notes.length ? { detail: `${f.detail} ${[...new Set(notes)].join(' ')}` } : {}),
    };
  });
  const confirmed = responder.length - raised.length;
  await deps.bundle.put(
    'late-events.json',
    late.map((e) => e.record),
  );
  await deps.bundle.put(INCIDENT_FILES.verification.lateFindings, lateFindings);
  await deps.bundle.put(INCIDENT_FILES.verification.responderActivity, responder);
  const evidence = await deps.bundle.finish();
  return {
    step: 'verify-incident',
    status: 'done',
    detail: `Looked up root activity again in ${index.regions.length} region(s): ${late.length} event(s) arrived after the first collection${late.length ? `, ${lateFindings.length} finding(s)` : ''}${confirmed ? `; ${confirmed} of them the responders' own work for their tasks` : ''}${raised.length ? `; ${raised.length} matched a task that was not approved, raised as findings` : ''}.`,
    lateEvents: late.length,
    lateFindings: lateFindings.length,
    responderActivity: { confirmed, raised: raised.length },
    keys: { lateFindings: INCIDENT_FILES.verification.lateFindings, responderActivity: INCIDENT_FILES.verification.responderActivity },
    evidence,
  };
}
