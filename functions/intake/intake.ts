import { createHash } from 'node:crypto';
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import {
  accountIdOf,
  safeText,
  callerAccessKeyId,
  EventBridgeEnvelopeSchema,
  GUARDDUTY_ROOT_FINDING,
  isGuardDutyRootFinding,
  isObject,
  isRootIdentity,
  type JsonObject,
  looksLikeEnvelope,
  obj,
  str,
} from '#shared/cloudtrail';
import { type AlertDigestStore, alertDigestStorePermissions } from '#shared/alert-digest-store';
import type { Clock } from '#shared/clock';
import { executionEndedStatus, executionStatusPermissions } from '#shared/execution-status';
import { ExecutionStartError, InvalidEventError, isAwsError, isTransientAwsError, TransientAwsError } from '#shared/errors';
import { type IncidentStore, incidentStorePermissions, type OpenMarker } from '#shared/incident-store';
import type { KnownSources } from '#shared/known-sources';
import type { Log } from '#shared/logger';
import { type OrganizationMembership, organizationMembershipPermissions } from '#shared/organization-membership';
import { notifyPermissions, publish } from '#shared/notify';
import { type OwnSessionStore, ownSessionStorePermissions } from '#shared/own-session-store';
import { type PipelineHealthStore, pipelineHealthStorePermissions } from '#shared/pipeline-health-store';
import type { IncidentEvent } from '#shared/schemas';
import type { ExecutionInput, ResponseSettings } from '#shared/contracts/execution-input';
import { categoriesOf, triage, type Triage } from '#shared/triage';
import { emailText as mail } from '#shared/text';

/**
 * Intake: one EventBridge event in, at most one new execution out.
 * - Input that is not an event is rejected with InvalidEventError (it lands in the DLQ, nothing starts).
 * - Trust: only AWS's own sources (`aws.*`, which EventBridge reserves for AWS) are acted on; the
 *   account is the envelope's (EventBridge sets it) and must agree with the record's; in organization
 *   mode it must be a member. A refused event is alerted (once per interval and kind), never acted on.
 * - Non-root and benign root-typed events start nothing.
 * - A root event opens the account's incident, or is attached to the one already open. An open
 *   marker whose execution no longer runs (DescribeExecution) is released first: the event opens a
 *   new incident that links the old one, so a missed end never swallows a later compromise.
 * - Fails open: a root-typed event of unexpected shape still alerts and opens an incident (`unparsed`).
 * - Alert volume: the opening alerts at once; later root events of the incident are counted for the
 *   scheduled digest (one email per incident per interval), never emailed one by one.
 * Every step is idempotent, so a retried invocation finishes what a crashed one started.
 */
export const requiredPermissions = [
  ...new Set([
    ...incidentStorePermissions.openOrAttach,
    ...ownSessionStorePermissions.lookup,
    ...pipelineHealthStorePermissions.recordCanary,
    ...alertDigestStorePermissions.count,
    ...organizationMembershipPermissions,
    'states:StartExecution',
    ...executionStatusPermissions,
    ...notifyPermissions,
  ]),
];

export interface IntakeDeps {
  store: IncidentStore;
  /** Our own AssumeRoot sessions: their events are benign. */
  ownSessions: Pick<OwnSessionStore, 'isOwnSession'>;
  /** Where a canary's arrival is noted. */
  pipeline: Pick<PipelineHealthStore, 'recordCanary'>;
  sfn: Pick<SFNClient, 'send'>;
  sns: Pick<SNSClient, 'send'>;
  clock: Clock;
  log: Log;
  /** Where later events are counted for the digest, and refused events' one-off alerts claimed (none: nothing counted). */
  digests?: Pick<AlertDigestStore, 'count' | 'claimAlert' | 'releaseAlert'>;
  /** Organization mode: which accounts belong to the organization (none: not checked). */
  membership?: Pick<OrganizationMembership, 'of'>;
  config: {
    stateMachineArn: string;
    alertTopicArn: string;
    knownSources: KnownSources;
    settings: ResponseSettings;
    /** The account the responder runs in: GuardDuty findings it administers name member accounts in `detail`. */
    responderAccountId?: string;
    /** The organization named in refusals (organization mode). */
    organizationId?: string;
    /** The digest interval (default 15 minutes): refused events alert once per interval. */
    digestIntervalSeconds?: number;
  };
}

/** Why an event was refused: a source AWS never uses, accounts that disagree, an account outside the organization. */
export type RefusalReason = 'not-an-aws-source' | 'account-mismatch' | 'outside-organization';

export type IntakeResult =
  | { outcome: 'opened'; incidentId: string; executionArn: string; severity: Triage['severity']; unparsed: boolean }
  | { outcome: 'attached'; incidentId: string; duplicate: boolean; executionArn?: string }
  | { outcome: 'benign'; reason: string }
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'canary'; accountId: string; region: string }
  | { outcome: 'refused'; reason: RefusalReason; accounts: string[]; alerted: boolean };

/** The pipeline canary's EventBridge source: sent on a schedule in every account and region, forwarded like root events. */
export const CANARY_SOURCE = 'root-responder.canary';

type Received =
  | { kind: 'cloudtrail'; record: JsonObject; envelope?: JsonObject }
  | { kind: 'guardduty'; envelope: JsonObject }
  | { kind: 'canary'; envelope: JsonObject }
  | { kind: 'forged'; envelope: JsonObject; record?: JsonObject };

/** EventBridge reserves sources starting "aws." for AWS: nobody else can put an event with one. */
export function isAwsSource(source: unknown): boolean {
  return typeof source === 'string' && source.startsWith('aws.');
}

/** What kind of event this is; anything that is not an event is an InvalidEventError. */
export function receive(event: unknown): Received {
  if (!isObject(event)) {
    throw new InvalidEventError(
      `Intake expects an EventBridge event object, got ${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event}`,
    );
  }
  if (looksLikeEnvelope(event)) {
    const detail = event['detail'] as JsonObject;
    const carriesRecord = 'eventName' in detail || 'userIdentity' in detail;
    if (event['source'] === CANARY_SOURCE && !carriesRecord && !isGuardDutyRootFinding(event)) return { kind: 'canary', envelope: event };
    // A root record or finding under a source that is not AWS's was put on the bus by someone: refused, alerted.
    const fromAws = isAwsSource(event['source']);
    if (isGuardDutyRootFinding(event)) return fromAws ? { kind: 'guardduty', envelope: event } : { kind: 'forged', envelope: event };
    if (carriesRecord)
      return fromAws ? { kind: 'cloudtrail', record: detail, envelope: event } : { kind: 'forged', envelope: event, record: detail };
    throw new InvalidEventError('EventBridge event whose detail is neither a CloudTrail record nor a GuardDuty root-credential finding', [
      `detail-type: ${safeText(event['detail-type'])}`,
    ]);
  }
  if ('eventName' in event || 'userIdentity' in event) return { kind: 'cloudtrail', record: event };
  throw new InvalidEventError('Not an EventBridge event: no "detail" object, and not a CloudTrail record', [
    `keys: ${Object.keys(event).slice(0, 10).join(', ')}`,
  ]);
}

/** A GuardDuty Policy:IAMUser/RootCredentialUsage finding, seen through the triage lens. */
function triageFinding(envelope: JsonObject): Triage {
  const detail = obj(envelope['detail']) ?? {};
  const service = obj(detail['service']);
  const call = obj(obj(service?.['action'])?.['awsApiCallAction']);
  const api = str(call?.['api']) ?? '';
  const apiSource = str(call?.['serviceName']) ?? '';
  const ip = str(obj(call?.['remoteIpDetails'])?.['ipAddressV4']) ?? null;
  const categories = api ? categoriesOf({ eventName: api, eventSource: apiSource }) : [];
  return {
    eventId: str(detail['id']) ?? str(envelope['id']) ?? null,
    eventName: `GuardDuty ${str(detail['type']) ?? 'finding'}`,
    eventSource: 'guardduty.amazonaws.com',
    accountId: str(detail['accountId']) ?? str(envelope['account']) ?? null,
    sourceIPAddress: ip,
    isRoot: true,
    benign: false,
    startsIncident: true,
    severity: 'high',
    categories,
    reasons: [
      `GuardDuty saw root credentials used${api ? ` for ${api} (${apiSource})` : ''}${ip ? ` from ${ip}` : ''}: ${str(detail['title']) ?? 'root credential usage'}.`,
    ],
    eventTime: str(service?.['eventFirstSeen']) ?? str(envelope['time']) ?? null,
    parsed: true,
  };
}

const ACCOUNT_ID = /^\d{12}$/;
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d$/;

function accountOf(candidate: string | null | undefined, envelope?: JsonObject): string {
  if (candidate && ACCOUNT_ID.test(candidate)) return candidate;
  const fromEnvelope = str(envelope?.['account']);
  if (fromEnvelope && ACCOUNT_ID.test(fromEnvelope)) return fromEnvelope;
  return 'unknown-account';
}

/** The account ids a record (or a GuardDuty finding) names for itself: 12-digit ids only; numbers as older records carry them. */
function claimedAccounts(received: Received): { field: string; accountId: string }[] {
  const fields: [string, unknown][] =
    received.kind === 'guardduty'
      ? [['detail.accountId', obj(received.envelope['detail'])?.['accountId']]]
      : received.kind === 'cloudtrail' || (received.kind === 'forged' && received.record)
        ? [
            ['recipientAccountId', received.record!['recipientAccountId']],
            ['userIdentity.accountId', obj(received.record!['userIdentity'])?.['accountId']],
          ]
        : [];
  return fields
    .map(([field, value]) => ({ field, accountId: typeof value === 'number' ? String(value) : str(value) }))
    .filter((c): c is { field: string; accountId: string } => c.accountId !== undefined && ACCOUNT_ID.test(c.accountId));
}

/**
 * The account an event is about. EventBridge sets the envelope's `account` (the account the event
 * happened in, kept when forwarded; nobody can put another), so it is the account; the record must
 * name the same one. A record's field that holds no account id at all is a shape problem, not a
 * disagreement (fail open). GuardDuty findings the responder's own account administers name the member
 * account in `detail.accountId`. Without a valid envelope (a record handed to intake directly, not
 * through EventBridge) the record's account is used: `accountId` is then undefined here.
 */
function checkAccount(received: Received, deps: IntakeDeps): { accountId?: string; disagreeing: { field: string; accountId: string }[] } {
  const fromEnvelope = str(received.envelope?.['account']);
  if (!fromEnvelope || !ACCOUNT_ID.test(fromEnvelope)) return { disagreeing: [] };
  const claimed = claimedAccounts(received);
  if (received.kind === 'guardduty' && claimed[0] && fromEnvelope === deps.config.responderAccountId)
    return { accountId: claimed[0].accountId, disagreeing: [] };
  return { accountId: fromEnvelope, disagreeing: claimed.filter((c) => c.accountId !== fromEnvelope) };
}

function regionOf(record: JsonObject | undefined, envelope?: JsonObject): string {
  for (const candidate of [str(envelope?.['region']), str(record?.['awsRegion'])]) {
    if (candidate && REGION_NAME.test(candidate)) return candidate;
  }
  return 'us-east-1';
}

function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 10);
}

/** Deterministic: the same first event always names the same incident and execution (<= 80 chars). */
export function incidentIdFor(accountId: string, at: Date, eventKey: string): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${accountId}-${stamp}-${shortHash(eventKey)}`;
}

function validDate(value: string | null | undefined, fallback: Date): Date {
  const d = value ? new Date(value.includes('T') || !value.includes(' ') ? value : `${value.replace(' ', 'T')}Z`) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : fallback;
}

function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

async function startExecution(input: ExecutionInput, deps: IntakeDeps): Promise<string> {
  try {
    const out = await deps.sfn.send(
      new StartExecutionCommand({ stateMachineArn: deps.config.stateMachineArn, name: input.incidentId, input: JSON.stringify(input) }),
    );
    return out.executionArn ?? executionArnFor(deps.config.stateMachineArn, input.incidentId);
  } catch (error) {
    if (isAwsError(error, ExecutionAlreadyExists)) {
      deps.log.info('Execution already exists for this incident; nothing new started', { incidentId: input.incidentId });
      return executionArnFor(deps.config.stateMachineArn, input.incidentId);
    }
    if (isTransientAwsError(error)) throw new TransientAwsError('states:StartExecution', { cause: error });
    throw new ExecutionStartError(`StartExecution for ${input.incidentId} failed: ${(error as Error).name}`, { cause: error });
  }
}

const DEFAULT_DIGEST_SECONDS = 900;
/** Intake's Lambda timeout (serverless.yml: 30 s), with a margin: an opener older than this has finished or died. */
const OPENER_TIME_MS = 60_000;

function digestMinutes(deps: IntakeDeps): number {
  return Math.round((deps.config.digestIntervalSeconds ?? DEFAULT_DIGEST_SECONDS) / 60);
}

function alertText(input: ExecutionInput, minutes: number): { subject: string; message: string } {
  const t = input.trigger;
  const subject = `[root-responder] ${t.severity.toUpperCase()}: root activity in account ${input.accountId}`.slice(0, 100);
  const message = [
    `Root activity opened incident ${mail(input.incidentId)} in account ${mail(input.accountId)} (${mail(input.region)}).`,
    '',
    `Event: ${mail(t.eventName || 'unknown')} (${mail(t.eventSource || 'unknown source')}) at ${mail(t.eventTime ?? 'an unrecorded time')} from ${mail(t.sourceIPAddress ?? 'an unrecorded address')}.`,
    `Severity: ${t.severity}.`,
    ...t.reasons.map((r) => `- ${mail(r)}`),
    ...(input.unparsed
      ? ['', 'The event did not fit the expected schema; the response runs anyway (fail open). Check the raw event.']
      : []),
    '',
    'The response workflow has started: evidence snapshot, root key containment, then approval requests to the registered responders.',
    `Later root activity in this incident is not emailed call by call: a digest every ${minutes} minutes counts it by event name.`,
  ].join('\n');
  return { subject, message };
}

async function publishAlert(input: ExecutionInput, deps: IntakeDeps): Promise<string> {
  const { subject, message } = alertText(input, digestMinutes(deps));
  await publish(deps.sns, deps.config.alertTopicArn, { subject, body: message, attributes: { severity: input.trigger.severity } });
  return deps.clock.now().toISOString();
}

/** Finish what intake owes an open incident: its execution and its alert, each once. */
async function completeOpening(marker: OpenMarker, deps: IntakeDeps): Promise<string> {
  const executionArn = marker.executionArn ?? (await startExecution(marker.executionInput, deps));
  const alertedAt = marker.alertedAt ?? (await publishAlert(marker.executionInput, deps));
  if (!marker.executionArn || !marker.alertedAt) {
    await deps.store.recordProgress(marker.accountId, marker.incidentId, { executionArn, alertedAt });
  }
  return executionArn;
}

function incidentEvent(t: Triage, fallbackKey: string, now: Date): IncidentEvent {
  const eventId = t.eventId && t.eventId.length > 0 ? t.eventId : `unidentified-${shortHash(fallbackKey)}`;
  return {
    key: shortHash(`${eventId}|${t.eventTime ?? ''}|${t.eventName}|${t.eventSource}`),
    eventId,
    eventName: t.eventName,
    eventTime: t.eventTime,
    severity: t.severity,
    startsIncident: t.startsIncident,
    sourceIPAddress: t.sourceIPAddress,
    receivedAt: now.toISOString(),
  };
}

async function attachIfOpen(accountId: string, event: IncidentEvent, reason: string, deps: IntakeDeps): Promise<IntakeResult> {
  const open = await deps.store.openIncident(accountId);
  if (!open) return { outcome: 'ignored', reason };
  const added = await deps.store.attach(open.incidentId, event);
  return {
    outcome: 'attached',
    incidentId: open.incidentId,
    duplicate: !added,
    ...(open.executionArn ? { executionArn: open.executionArn } : {}),
  };
}

/** A root event attached to an open incident is counted for the incident's digest, never emailed on its own. */
async function counted(result: IntakeResult, t: Triage, accountId: string, now: Date, deps: IntakeDeps): Promise<IntakeResult> {
  if (result.outcome === 'attached' && !result.duplicate && t.isRoot && deps.digests) {
    // The event is attached (the incident's record has it); a lost count only shortens a digest, so a
    // failure here is logged, not thrown (a retry would find the event attached and count nothing anyway).
    await deps.digests
      .count({
        subject: result.incidentId,
        incidentId: result.incidentId,
        accountId,
        title: `root activity in account ${accountId}, incident ${result.incidentId}`,
        eventName: t.eventName,
        readOnly: t.categories.includes('read-only'),
        at: now,
      })
      .catch((error: unknown) =>
        deps.log.warn('Event not counted for the alert digest', { incidentId: result.incidentId, error: error as Error }),
      );
  }
  return result;
}

const REFUSAL_SUBJECTS: Record<RefusalReason, (accounts: string[]) => string> = {
  'not-an-aws-source': ([sender]) => `[root-responder] REFUSED: forged root event put on the bus by account ${sender}`,
  'account-mismatch': ([envelope, record]) => `[root-responder] REFUSED: event from account ${envelope} names account ${record}`,
  'outside-organization': ([account]) => `[root-responder] REFUSED: root event from account ${account}, outside the organization`,
};

/**
 * A refused event: never an incident, an execution or a deletion in any account. The first of its
 * kind and accounts in an interval is emailed at once (claimed with a conditional write, so
 * concurrent intakes send one); the rest are counted for the digest.
 */
async function refuse(
  reason: RefusalReason,
  accounts: string[],
  explanation: string[],
  event: { name: string; readOnly: boolean },
  now: Date,
  deps: IntakeDeps,
): Promise<IntakeResult> {
  const intervalSeconds = deps.config.digestIntervalSeconds ?? DEFAULT_DIGEST_SECONDS;
  const windowStart = new Date(Math.floor(now.getTime() / (intervalSeconds * 1000)) * intervalSeconds * 1000);
  const key = `REFUSED#${reason}#${accounts.join('#')}`;
  const alerted = deps.digests ? await deps.digests.claimAlert(key, windowStart, intervalSeconds) : true;
  deps.log.warn('Event refused', { reason, accounts, eventName: event.name, alerted });
  if (!alerted) {
    await deps.digests!.count({
      subject: key,
      accountId: accounts[0]!,
      title: `refused events (${reason}) naming account${accounts.length > 1 ? 's' : ''} ${accounts.join(' and ')}`,
      eventName: event.name,
      readOnly: event.readOnly,
      at: now,
    });
    return { outcome: 'refused', reason, accounts, alerted };
  }
  const body = [
    ...explanation,
    '',
    `Event: ${event.name}.`,
    'Nothing was started, deleted or changed in any account: no incident, no execution, no containment.',
    `Further events refused for the same reason and accounts are counted in a digest every ${Math.round(intervalSeconds / 60)} minutes, not emailed one by one.`,
  ].join('\n');
  try {
    await publish(deps.sns, deps.config.alertTopicArn, {
      subject: REFUSAL_SUBJECTS[reason](accounts),
      body,
      attributes: { severity: 'high' },
    });
  } catch (error) {
    // Give the claim back, so the retry of this event alerts.
    if (deps.digests) await deps.digests.releaseAlert(key, windowStart);
    throw error;
  }
  return { outcome: 'refused', reason, accounts, alerted };
}

function idOrUnknown(value: unknown): string {
  const text = typeof value === 'number' ? String(value) : str(value);
  return text && ACCOUNT_ID.test(text) ? text : 'unknown';
}

/** A root record or finding under a source AWS never uses: put on the bus by the envelope's account. */
function refuseForged(received: Extract<Received, { kind: 'forged' }>, now: Date, deps: IntakeDeps): Promise<IntakeResult> {
  const sender = idOrUnknown(received.envelope['account']);
  const named = claimedAccounts(received)[0]?.accountId ?? 'unknown';
  const name = received.record ? (str(received.record['eventName']) ?? 'unknown') : `GuardDuty ${GUARDDUTY_ROOT_FINDING}`;
  return refuse(
    'not-an-aws-source',
    [sender, named],
    [
      `An event carrying a root ${received.record ? 'CloudTrail record' : 'GuardDuty finding'} arrived with source "${safeText(received.envelope['source'], 60)}".`,
      'EventBridge reserves sources starting "aws." for AWS itself: this one was put on the bus with PutEvents, not sent by AWS.',
      `EventBridge says account ${sender} put it there${named !== 'unknown' ? `; the record inside names account ${named}` : ''}.`,
      `Find who in account ${sender} may call events:PutEvents on the responder's bus, and why they sent this.`,
    ],
    { name: safeText(name, 64), readOnly: false },
    now,
    deps,
  );
}

/**
 * A canary made it through the whole path (its account's rule, the forwarding, the bus policy, our
 * rule): note when, per account and region, for the pipeline check. The account and region are
 * EventBridge's own envelope fields, which a sender cannot set.
 */
async function canaryArrived(envelope: JsonObject, now: Date, deps: IntakeDeps): Promise<IntakeResult> {
  const accountId = str(envelope['account']);
  const region = str(envelope['region']);
  if (!accountId || !ACCOUNT_ID.test(accountId) || !region || !REGION_NAME.test(region)) {
    throw new InvalidEventError('Canary event without a valid account and region', [
      `account: ${safeText(envelope['account'])}`,
      `region: ${safeText(envelope['region'])}`,
    ]);
  }
  await deps.pipeline.recordCanary(accountId, region, now);
  return { outcome: 'canary', accountId, region };
}

export async function intake(event: unknown, deps: IntakeDeps): Promise<IntakeResult> {
  const received = receive(event);
  const now = deps.clock.now();
  if (received.kind === 'canary') return canaryArrived(received.envelope, now, deps);
  if (received.kind === 'forged') return refuseForged(received, now, deps);
  const envelope = received.envelope;
  const record = received.kind === 'cloudtrail' ? received.record : undefined;
  const checked = checkAccount(received, deps);

  // Our own AssumeRoot sessions: only the recorded access key ids, never "any AssumeRoot session".
  let ownSessions: Set<string> | undefined;
  if (record && isRootIdentity(record)) {
    const keyId = callerAccessKeyId(record);
    if (keyId && (await deps.ownSessions.isOwnSession(checked.accountId ?? accountOf(accountIdOf(record, envelope), envelope), keyId)))
      ownSessions = new Set([keyId]);
  }

  const t = record
    ? triage(record, { known: deps.config.knownSources, ...(ownSessions ? { ownSessionAccessKeyIds: ownSessions } : {}) }, envelope)
    : triageFinding(envelope!);
  const accountId = checked.accountId ?? accountOf(t.accountId, envelope);
  const eventKey = t.eventId ?? str(envelope?.['id']) ?? JSON.stringify(record ?? envelope).slice(0, 4096);
  const summary = incidentEvent(t, eventKey, now);

  const disagreement = checked.disagreeing.map((c) => `${c.field} ${c.accountId}`).join(', ');
  if (!t.isRoot) {
    if (disagreement)
      return { outcome: 'ignored', reason: `Not root, and the record names another account than ${accountId} (${disagreement}).` };
    if (t.severity === 'low') return attachIfOpen(accountId, summary, t.reasons.join(' '), deps);
    return { outcome: 'ignored', reason: t.reasons.join(' ') };
  }
  if (t.benign) {
    deps.log.info('Benign root-typed event dropped', { accountId, eventName: t.eventName, reason: t.reasons[0] });
    return { outcome: 'benign', reason: t.reasons.join(' ') };
  }
  const readOnly = t.categories.includes('read-only');
  if (checked.disagreeing.length > 0) {
    const other = checked.disagreeing[0]!.accountId;
    return refuse(
      'account-mismatch',
      [accountId, other],
      [
        `EventBridge delivered a root event from account ${accountId}, but the record inside names account ${other} (${disagreement}).`,
        "EventBridge sets the envelope's account itself, so the record does not match where the event came from. Either someone built the",
        `record to act on account ${other}, or root of account ${other} acted on a resource in account ${accountId}. Check both accounts:`,
        `CloudTrail of ${accountId} for this event, and root activity in ${other}.`,
      ],
      { name: t.eventName || 'unknown', readOnly },
      now,
      deps,
    );
  }
  if (deps.membership && envelope && accountId !== deps.config.responderAccountId) {
    const membership = await deps.membership.of(accountId, now);
    if (membership.status === 'outside')
      return refuse(
        'outside-organization',
        [accountId],
        [
          `A root event from account ${accountId} was forwarded to the responder, but that account is not a member of ${deps.config.organizationId ? `organization ${deps.config.organizationId}` : 'the organization'} (Organizations: AccountNotFoundException).`,
          'Events from accounts outside the organization are never acted on. Find which member account forwards events from it (its EventBridge rules and bus policy).',
        ],
        { name: t.eventName || 'unknown', readOnly },
        now,
        deps,
      );
    // Organizations could not answer (access denied, not in use): acted on anyway (detection fails open).
    if (membership.status === 'unknown')
      deps.log.warn('Organization membership not checked; acting on the event', { accountId, reason: membership.reason });
  }
  if (!t.startsIncident) {
    return counted(await attachIfOpen(accountId, summary, t.reasons.join(' '), deps), t, accountId, now, deps);
  }

  const unparsed = !t.parsed || (envelope !== undefined && !EventBridgeEnvelopeSchema.safeParse(envelope).success);
  if (unparsed)
    deps.log.warn('Root-typed event does not fit the schema; opening an incident anyway (fail open)', {
      accountId,
      eventName: t.eventName,
    });
  const openedAt = validDate(t.eventTime, now);
  const input: ExecutionInput = {
    incidentId: incidentIdFor(accountId, openedAt, `${accountId}|${eventKey}`),
    accountId,
    region: regionOf(record, envelope),
    openedAt: openedAt.toISOString(),
    receivedAt: now.toISOString(),
    source: received.kind,
    unparsed,
    trigger: t,
    settings: deps.config.settings,
  };
  const result = await deps.store.openOrAttach(input, summary, (marker) => executionEndedStatus(deps.sfn, marker.executionArn!));
  if (result.outcome === 'opened' && result.released)
    deps.log.warn('Released an open incident whose execution had ended', { incidentId: result.released, accountId });
  if (result.outcome === 'opened') {
    const executionArn = await completeOpening(result.marker, deps);
    deps.log.info('Incident opened', { incidentId: input.incidentId, accountId, severity: t.severity, unparsed });
    return { outcome: 'opened', incidentId: input.incidentId, executionArn, severity: t.severity, unparsed };
  }
  if (result.outcome === 'ended') {
    deps.log.info('Redelivery of the event that opened an incident that has ended', {
      incidentId: result.incidentId,
      status: result.status,
    });
    return { outcome: 'attached', incidentId: result.incidentId, duplicate: true };
  }
  // Attached. If an earlier invocation crashed before starting the execution or alerting, finish it:
  // a retry of the opening event at once, any other event once the opener's time is up (until then the
  // opener finishes it: twenty concurrent attachers must not send twenty opening alerts).
  const wasComplete = Boolean(result.marker.executionArn && result.marker.alertedAt);
  const openerGone = !(now.getTime() - Date.parse(result.marker.executionInput.receivedAt ?? '') < OPENER_TIME_MS);
  const finish = !wasComplete && (result.marker.incidentId === input.incidentId || openerGone);
  const executionArn = finish ? await completeOpening(result.marker, deps) : result.marker.executionArn;
  if (finish && executionArn && result.marker.incidentId === input.incidentId) {
    deps.log.info('Finished a retried opening', { incidentId: input.incidentId });
    return { outcome: 'opened', incidentId: input.incidentId, executionArn, severity: t.severity, unparsed };
  }
  deps.log.info('Event attached to the open incident', { incidentId: result.marker.incidentId, accountId, duplicate: result.duplicate });
  return counted(
    { outcome: 'attached', incidentId: result.marker.incidentId, duplicate: result.duplicate, ...(executionArn ? { executionArn } : {}) },
    t,
    accountId,
    now,
    deps,
  );
}
