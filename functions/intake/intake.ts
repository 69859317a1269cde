import { createHash } from 'node:crypto';
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import {
  accountIdOf,
  safeText,
  callerAccessKeyId,
  EventBridgeEnvelopeSchema,
  isGuardDutyRootFinding,
  isObject,
  isRootIdentity,
  type JsonObject,
  looksLikeEnvelope,
  obj,
  str,
} from '#shared/cloudtrail';
import type { Clock } from '#shared/clock';
import { ExecutionStartError, InvalidEventError, isAwsError, isTransientAwsError, TransientAwsError } from '#shared/errors';
import { type IncidentStore, incidentStorePermissions, type OpenMarker } from '#shared/incident-store';
import type { KnownSources } from '#shared/known-sources';
import type { Log } from '#shared/logger';
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
 * - Non-root and benign root-typed events start nothing.
 * - A root event opens the account's incident, or is attached to the one already open.
 * - Fails open: a root-typed event of unexpected shape still alerts and opens an incident (`unparsed`).
 * Every step is idempotent, so a retried invocation finishes what a crashed one started.
 */
export const requiredPermissions = [
  ...new Set([
    ...incidentStorePermissions.openOrAttach,
    ...ownSessionStorePermissions.lookup,
    ...pipelineHealthStorePermissions.recordCanary,
    'states:StartExecution',
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
  config: {
    stateMachineArn: string;
    alertTopicArn: string;
    knownSources: KnownSources;
    settings: ResponseSettings;
  };
}

export type IntakeResult =
  | { outcome: 'opened'; incidentId: string; executionArn: string; severity: Triage['severity']; unparsed: boolean }
  | { outcome: 'attached'; incidentId: string; duplicate: boolean; executionArn?: string }
  | { outcome: 'benign'; reason: string }
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'canary'; accountId: string; region: string };

/** The pipeline canary's EventBridge source: sent on a schedule in every account and region, forwarded like root events. */
export const CANARY_SOURCE = 'root-responder.canary';

type Received =
  | { kind: 'cloudtrail'; record: JsonObject; envelope?: JsonObject }
  | { kind: 'guardduty'; envelope: JsonObject }
  | { kind: 'canary'; envelope: JsonObject };

/** What kind of event this is; anything that is not an event is an InvalidEventError. */
export function receive(event: unknown): Received {
  if (!isObject(event)) {
    throw new InvalidEventError(
      `Intake expects an EventBridge event object, got ${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event}`,
    );
  }
  if (looksLikeEnvelope(event)) {
    if (isGuardDutyRootFinding(event)) return { kind: 'guardduty', envelope: event };
    const detail = event['detail'] as JsonObject;
    // Anything carrying a CloudTrail record goes down the root path, whatever its source says (fail open).
    if (event['source'] === CANARY_SOURCE && !('eventName' in detail) && !('userIdentity' in detail))
      return { kind: 'canary', envelope: event };
    if ('eventName' in detail || 'userIdentity' in detail) return { kind: 'cloudtrail', record: detail, envelope: event };
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

function alertText(input: ExecutionInput): { subject: string; message: string } {
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
  ].join('\n');
  return { subject, message };
}

async function publishAlert(input: ExecutionInput, deps: IntakeDeps): Promise<string> {
  const { subject, message } = alertText(input);
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
  const envelope = received.envelope;
  const record = received.kind === 'cloudtrail' ? received.record : undefined;

  // Our own AssumeRoot sessions: only the recorded access key ids, never "any AssumeRoot session".
  let ownSessions: Set<string> | undefined;
  if (record && isRootIdentity(record)) {
    const keyId = callerAccessKeyId(record);
    if (keyId && (await deps.ownSessions.isOwnSession(accountOf(accountIdOf(record, envelope), envelope), keyId)))
      ownSessions = new Set([keyId]);
  }

  const t = record
    ? triage(record, { known: deps.config.knownSources, ...(ownSessions ? { ownSessionAccessKeyIds: ownSessions } : {}) }, envelope)
    : triageFinding(envelope!);
  const accountId = accountOf(t.accountId, envelope);
  const eventKey = t.eventId ?? str(envelope?.['id']) ?? JSON.stringify(record ?? envelope).slice(0, 4096);
  const summary = incidentEvent(t, eventKey, now);

  if (!t.isRoot) {
    if (t.severity === 'low') return attachIfOpen(accountId, summary, t.reasons.join(' '), deps);
    return { outcome: 'ignored', reason: t.reasons.join(' ') };
  }
  if (t.benign) {
    deps.log.info('Benign root-typed event dropped', { accountId, eventName: t.eventName, reason: t.reasons[0] });
    return { outcome: 'benign', reason: t.reasons.join(' ') };
  }
  if (!t.startsIncident) {
    return attachIfOpen(accountId, summary, t.reasons.join(' '), deps);
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
  const result = await deps.store.openOrAttach(input, summary);
  if (result.outcome === 'opened') {
    const executionArn = await completeOpening(result.marker, deps);
    deps.log.info('Incident opened', { incidentId: input.incidentId, accountId, severity: t.severity, unparsed });
    return { outcome: 'opened', incidentId: input.incidentId, executionArn, severity: t.severity, unparsed };
  }
  // Attached. If an earlier invocation crashed before starting the execution or alerting, finish it.
  const wasComplete = Boolean(result.marker.executionArn && result.marker.alertedAt);
  const executionArn = wasComplete ? result.marker.executionArn! : await completeOpening(result.marker, deps);
  if (!wasComplete && result.marker.incidentId === input.incidentId) {
    deps.log.info('Finished a retried opening', { incidentId: input.incidentId });
    return { outcome: 'opened', incidentId: input.incidentId, executionArn, severity: t.severity, unparsed };
  }
  deps.log.info('Event attached to the open incident', { incidentId: result.marker.incidentId, accountId, duplicate: result.duplicate });
  return { outcome: 'attached', incidentId: result.marker.incidentId, duplicate: result.duplicate, executionArn };
}
