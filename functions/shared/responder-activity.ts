import { eventName, eventSource, identity, isReadOnly, type JsonObject, mfaUsed, obj, signInOutcome, str } from './cloudtrail';
import type { KnownSources } from './known-sources';
import type { TaskOutcome } from './contracts/task-outcome';

/**
 * The responders' own root work: while a console task that needs root is open (password, MFA,
 * mailbox, billing), the root activity its steps explain is the responders', not the attacker's.
 * An event is explained only when it comes from the responders' known networks, after the first
 * collection, and is what an open root task asks for (or the sign-in and the page reads such a task
 * needs). When the task was approved, its events are confirmed as responder activity; when it was
 * rejected or never approved, they are raised as findings after all. Pure.
 */

/** The console tasks done as root, and the root calls each one's steps explain (beyond signing in and reading). */
export const ROOT_CONSOLE_TASKS: Record<string, { explains: (record: JsonObject) => boolean }> = {
  'change-root-password': { explains: (r) => eventSource(r) === 'signin.amazonaws.com' && eventName(r) === 'PasswordUpdated' },
  'enable-root-mfa': {
    explains: (r) =>
      eventSource(r) === 'iam.amazonaws.com' &&
      ['CreateVirtualMFADevice', 'EnableMFADevice', 'ResyncMFADevice', 'DeactivateMFADevice', 'DeleteVirtualMFADevice'].includes(
        eventName(r),
      ),
  },
  'delete-root-access-keys': {
    explains: (r) =>
      eventSource(r) === 'iam.amazonaws.com' &&
      ['DeleteAccessKey', 'UpdateAccessKey', 'DeleteSigningCertificate', 'UpdateSigningCertificate'].includes(eventName(r)) &&
      !str(obj(r['requestParameters'])?.['userName']),
  },
  'review-billing-and-organization': {
    explains: (r) => eventSource(r) === 'account.amazonaws.com' && eventName(r) === 'PutAlternateContact',
  },
  // The mailbox is outside AWS; a responder may still sign in as root to check the address.
  'secure-root-mailbox': { explains: () => false },
};

export interface ResponderEvent {
  eventId: string;
  at: string;
  eventName: string;
  sourceIPAddress: string | null;
  taskId: string;
  /** confirmed: the task was approved; raised: it was rejected or never approved, so the event is a finding after all. */
  status: 'confirmed' | 'raised';
  /** Why it is the responders' (or why it is raised after all), in a responder's words. */
  reason: string;
}

export interface WindowRecord {
  id: string;
  region: string;
  record: JsonObject;
}

const inConsole = (r: JsonObject) =>
  str(r['sessionCredentialFromConsole']) === 'true' ||
  str(identity(r)['invokedBy']) === 'signin.amazonaws.com' ||
  /^(AWS Internal|console\.|signin\.amazonaws\.com)/.test(str(r['userAgent']) ?? '');

/**
 * Split root events that arrived after the first collection into the responders' own work (per
 * task) and the rest. `windowStart`: when the tasks could first be open (the first collection's end).
 */
export function attributeResponderActivity<E extends WindowRecord>(
  events: E[],
  outcomes: readonly TaskOutcome[],
  options: { known: KnownSources; windowStart: string },
): { responder: ResponderEvent[]; remaining: E[] } {
  const tasks = outcomes.filter((o) => o.kind === 'console' && ROOT_CONSOLE_TASKS[o.taskId] !== undefined);
  // Root MFA was off or changed when the plan asks to enable it: the responders' own sign-ins cannot use it yet.
  const mfaPending = tasks.some((t) => t.taskId === 'enable-root-mfa');
  const start = Date.parse(options.windowStart);
  const openAt = (o: TaskOutcome, at: number) => at >= start && (o.status !== 'done' || at <= Date.parse(o.decision.decidedAt));
  // A sign-in or a page read belongs to the approved task the responder finished next (else any open one).
  const next = (candidates: TaskOutcome[]) =>
    candidates
      .filter((o): o is Extract<TaskOutcome, { status: 'done' }> => o.status === 'done')
      .sort((a, b) => a.decision.decidedAt.localeCompare(b.decision.decidedAt))[0] ?? candidates[0];
  const responder: ResponderEvent[] = [];
  const remaining: E[] = [];
  for (const e of events) {
    const r = e.record;
    const ip = str(r['sourceIPAddress']);
    const at = Date.parse(str(r['eventTime']) ?? '');
    const name = eventName(r);
    const fromKnown = options.known.contains(ip);
    const candidates = fromKnown && !Number.isNaN(at) ? tasks.filter((o) => openAt(o, at)) : [];
    let task: TaskOutcome | undefined;
    let why = '';
    const specific = candidates.find((o) => ROOT_CONSOLE_TASKS[o.taskId]!.explains(r));
    if (specific) {
      task = specific;
      why = `${name} is what the task asks for`;
    } else if (candidates.length && name === 'ConsoleLogin' && signInOutcome(r) === 'success' && (mfaUsed(r) === true || mfaPending)) {
      task = next(candidates);
      why = `a root console sign-in ${mfaUsed(r) === true ? 'with MFA' : 'without MFA (root MFA was still to be re-enabled)'}`;
    } else if (candidates.length && isReadOnly(r) && inConsole(r)) {
      task = next(candidates);
      why = `a console page read (${name})`;
    }
    if (!task) {
      remaining.push(e);
      continue;
    }
    const confirmed = task.status === 'done';
    responder.push({
      eventId: e.id,
      at: str(r['eventTime']) ?? '',
      eventName: name,
      sourceIPAddress: ip ?? null,
      taskId: task.taskId,
      status: confirmed ? 'confirmed' : 'raised',
      reason: confirmed
        ? `Responder activity for task ${task.taskId}: ${why}, from a known network (${ip}), while the task was open; the task was approved.`
        : `Would be responder activity for task ${task.taskId} (${why}, from ${ip}), but the task was ${task.status === 'rejected' ? 'rejected' : 'never approved'}: raised as a finding.`,
    });
    if (!confirmed) remaining.push(e);
  }
  responder.sort((a, b) => a.at.localeCompare(b.at));
  return { responder, remaining };
}
