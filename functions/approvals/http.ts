import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { type ApprovalRecord, type ApprovalStore, type ResponderLockout, type ResponderSession, SESSION_MS } from '#shared/approval-store';
import type { Clock } from '#shared/clock';
import { ApprovalAlreadyDecidedError, ApprovalExpiredError, ApprovalNotFoundError } from '#shared/errors';
import { escapeHtml } from '#shared/html';
import type { Log } from '#shared/logger';
import { type ResponderDirectory, totpStep } from '#shared/responders';
import type { PasskeyStore } from '#shared/passkeys';
import { decide } from './approvals';
import { json, newNonce, passkeyOptions, passkeySignIn, verifyPasskeySignIn } from './passkey-http';

/**
 * The approval page, a security boundary: the links may reach mail scanners and the account's
 * attacker may read the root mailbox. GET only renders (no-store, no-referrer, strict CSP) and never
 * decides. POST decides, and only with: the form's CSRF token matching its SameSite=Strict cookie,
 * an Origin equal to this API's, and the current TOTP code of an enrolled responder (a code works
 * once; wrong attempts lock the approval). Every refusal gets a clear page and its status (403 /
 * 404 / 409 / 410), decides nothing, and is logged as a security event without any secret.
 */
export interface HttpDeps {
  approvals: ApprovalStore;
  sfn: Pick<SFNClient, 'send'>;
  responders: ResponderDirectory;
  /** The origin the approval pages are served from (APPROVALS_BASE_URL). */
  origin: string;
  clock: Clock;
  /** The clock TOTP codes are checked against (the drill's advances 30 s per decision). */
  totpClock: Clock;
  log: Log;
  /** Passkeys (WebAuthn): sign-in by passkey is offered when present. */
  passkeys?: PasskeyStore;
  /** Tell the other responders and the escalation contacts that a responder was locked out. */
  announceLockout?: (lockout: ResponderLockout, from: string) => Promise<void>;
}

/** `__Host-`: only this origin sets or reads it (Secure, Path=/, no Domain); it lives as long as the link. */
export const CSRF_COOKIE = '__Host-rr_csrf';
/** The responder's sign-in for one incident (15 minutes); the table keeps only its hash. */
export const SESSION_COOKIE = '__Host-rr_session';
export const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

/** A page; with a nonce, its own inline script may run and call this origin (passkeys), nothing else. */
export function page(status: number, title: string, body: string, cookies?: string[], nonce?: string): APIGatewayProxyStructuredResultV2 {
  const csp = SECURITY_HEADERS['content-security-policy'];
  return {
    statusCode: status,
    headers: {
      ...SECURITY_HEADERS,
      ...(nonce ? { 'content-security-policy': `${csp}; script-src 'nonce-${nonce}'; connect-src 'self'` } : {}),
      'content-type': 'text/html; charset=utf-8',
    },
    ...(cookies ? { cookies } : {}),
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head><body style="font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.45">${body}</body></html>`,
  };
}

/** What the passkey enrollment pages share with these (page, headers, CSRF and Origin checks). */
export const enrollmentWeb = (origin: string) => ({
  page,
  headers: SECURITY_HEADERS,
  csrfCookie: CSRF_COOKIE,
  cookieValue: (event: APIGatewayProxyEventV2, name: string) => cookieValue(event, name),
  sameOrigin: (event: APIGatewayProxyEventV2) => isSameOrigin(event, origin),
  sameSecret: (a: string | undefined, b: string | undefined) => sameSecret(a, b),
  form: (event: APIGatewayProxyEventV2) => formOf(event),
});

/** The page for an unexpected failure: the same headers as every other page. */
export const serverError = () =>
  page(500, 'Something went wrong', '<h1>Something went wrong</h1><p>Nothing was decided. Try again, or tell the other responders.</p>');

const notFound = () => page(404, 'Not found', '<h1>No such approval</h1><p>The link is wrong, or it has expired and been removed.</p>');
const expired = (at: string) =>
  page(410, 'Expired', `<h1>This link has expired</h1><p>It expired at ${escapeHtml(at)}. A newer reminder email has a fresh link.</p>`);
const decided = (status: string) =>
  page(409, 'Already decided', `<h1>Already decided</h1><p>${escapeHtml(status)}. Each link decides once.</p>`);
const refused = (why: string) => page(403, 'Refused', `<h1>Not accepted</h1><p>${escapeHtml(why)}</p><p>Nothing was decided.</p>`);

export function cookieValue(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const all = [...(event.cookies ?? []), ...(event.headers?.['cookie'] ?? '').split(';')];
  for (const c of all) {
    const [k, ...v] = c.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

// The page's Referrer-Policy is no-referrer (the link must not leak), and with it browsers send
// "Origin: null" even for a same-origin form; they then also send Sec-Fetch-Site: same-origin,
// which no page or script can set. A cross-site form says cross-site, whatever its Origin.
export function isSameOrigin(event: APIGatewayProxyEventV2, expected: string): boolean {
  const origin = event.headers?.['origin'];
  return origin === expected || (origin === 'null' && event.headers?.['sec-fetch-site'] === 'same-origin');
}

export function formOf(event: APIGatewayProxyEventV2): URLSearchParams {
  const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  return new URLSearchParams(raw.slice(0, 10_000));
}

const list = (items: string[] | undefined, tag: 'ul' | 'ol') =>
  items?.length ? `<${tag}>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</${tag}>` : '';

const twoPersonNote = (record: ApprovalRecord) =>
  record.requiredApprovals > 1
    ? `<p><strong>Two different responders must approve (or reject).</strong> ${record.approvals.length} of ${record.requiredApprovals} approvals so far.</p>`
    : '';

/**
 * The decision form of one task. Signed in (a session for this incident): approve / reject with a
 * comment, no code. Not signed in: the email and the authenticator code too, which sign the
 * responder in for the incident and decide this task in one step.
 */
function decisionForm(id: string, record: ApprovalRecord, csrf: string, session: ResponderSession | undefined, key?: string): string {
  return (
    `<form method="post" action="/approvals/${escapeHtml(id)}">` +
    `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">` +
    (key ? `<input type="hidden" name="task" value="${escapeHtml(key)}">` : '') +
    (session
      ? ''
      : `<p><label>Your email <input name="email" type="email" required autocomplete="username"></label></p>` +
        `<p><label>Code from your authenticator <input name="code" inputmode="numeric" pattern="[0-9]{6}" required autocomplete="one-time-code"></label></p>`) +
    `<p><label>Comment <input name="comment" maxlength="500"></label></p>` +
    `<p><button name="decision" value="approve">Done / approve</button> <button name="decision" value="reject">Reject</button></p>` +
    `</form>`
  );
}

function renderTask(id: string, record: ApprovalRecord, csrf: string, session?: ResponderSession): string {
  return (
    `<p style="color:#555">Incident <code>${escapeHtml(record.incidentId)}</code> · account <code>${escapeHtml(record.accountId)}</code>${record.severity ? ` · severity <strong>${escapeHtml(record.severity)}</strong>` : ''}</p>` +
    `<h1>${escapeHtml(record.title)}</h1>` +
    (record.why?.length ? `<h2>Why</h2>${list(record.why, 'ul')}` : '') +
    (record.steps?.length ? `<h2>Steps</h2>${list(record.steps, 'ol')}` : '') +
    (record.verification ? `<p><strong>How it is verified:</strong> ${escapeHtml(record.verification)}</p>` : '') +
    twoPersonNote(record) +
    `<p>This link expires at ${escapeHtml(record.expiresAt)}.</p>` +
    decisionForm(id, record, csrf, session)
  );
}

/** The incident's other open tasks, each with its why, steps and verification; a form each when signed in. */
function renderOtherTasks(id: string, others: ApprovalRecord[], csrf: string, session: ResponderSession | undefined): string {
  if (others.length === 0) return '';
  return (
    `<hr><h2>Other open tasks in this incident (${others.length})</h2>` +
    (session ? '' : "<p>Sign in with a decision above (or open a task's own email link) to decide these without another code.</p>") +
    others
      .map(
        (r) =>
          `<section id="task-${escapeHtml(r.taskId)}" style="border-top:1px solid #ddd;margin-top:1rem">` +
          `<h3>${escapeHtml(r.title)}</h3>` +
          (r.why?.length ? `<h4>Why</h4>${list(r.why, 'ul')}` : '') +
          (r.steps?.length ? `<h4>Steps</h4>${list(r.steps, 'ol')}` : '') +
          (r.verification ? `<p><strong>How it is verified:</strong> ${escapeHtml(r.verification)}</p>` : '') +
          twoPersonNote(r) +
          (session ? decisionForm(id, r, csrf, session, r.pk) : '') +
          `</section>`,
      )
      .join('')
  );
}

const signedInNote = (session: ResponderSession) =>
  `<p style="background:#eef6ee;padding:.5rem">Signed in as <strong>${escapeHtml(session.responder)}</strong> for this incident until ${escapeHtml(session.expiresAt)}: decide its tasks without another code.</p>`;

function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${SESSION_MS / 1000}`;
}

export async function handleApprovalRequest(event: APIGatewayProxyEventV2, deps: HttpDeps): Promise<APIGatewayProxyStructuredResultV2> {
  const id = event.pathParameters?.['id'] ?? '';
  const method = event.requestContext?.http?.method ?? 'GET';
  const from = event.requestContext?.http?.sourceIp ?? 'unknown';
  if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return notFound();
  const idRef = id.slice(0, 6);
  const record = await deps.approvals.get(id);
  if (!record) {
    if (method === 'POST') deps.log.warn('Security event: decision for an unknown approval', { approval: idRef, from });
    return notFound();
  }
  const now = deps.clock.now();
  // TTL deletes days late: expiry is checked here, not left to the table.
  if (new Date(record.expiresAt).getTime() <= now.getTime()) return expired(record.expiresAt);
  // A decided link shows no form. A POST to it still goes through every check below: the responder
  // whose decision it is may be resubmitting after an error, and decide() tells the workflow again.
  // Whoever holds the link learns that it was decided, not by whom.
  if (record.status !== 'pending' && method !== 'POST') return decided(`This approval was ${record.status}`);
  // A session counts only for the incident it was opened for.
  const held = await deps.approvals.session(cookieValue(event, SESSION_COOKIE) ?? '', now);
  const session = held && held.incidentId === record.incidentId ? held : undefined;

  if (method === 'GET') {
    // One cookie for the origin (`__Host-` means Path=/): a page opened from another link keeps it.
    const heldCsrf = cookieValue(event, CSRF_COOKIE);
    const csrf = heldCsrf && /^[A-Za-z0-9_-]{43}$/.test(heldCsrf) ? heldCsrf : randomBytes(32).toString('base64url');
    const lifetime = Math.max(1, Math.ceil((new Date(record.expiresAt).getTime() - now.getTime()) / 1000));
    const others = (await deps.approvals.openTasks(record.incidentId, now)).filter((r) => r.pk !== record.pk);
    deps.log.info('Approval page viewed', { incidentId: record.incidentId, taskId: record.taskId, from, signedIn: Boolean(session) });
    const nonce = !session && deps.passkeys ? newNonce() : undefined;
    return page(
      200,
      record.title,
      (session ? signedInNote(session) : nonce ? passkeySignIn(nonce) : '') +
        renderTask(id, record, csrf, session) +
        renderOtherTasks(id, others, csrf, session),
      [`${CSRF_COOKIE}=${csrf}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${lifetime}`],
      nonce,
    );
  }
  if (method !== 'POST') return page(405, 'Method not allowed', '<h1>Method not allowed</h1>');

  // Refusals that are no guess (a forged form, a foreign Origin, an unknown or locked responder)
  // count against nothing: holding a link must not be enough to lock it or anyone out.
  const refuse = (event: string, message: string, extra: Record<string, unknown> = {}) => {
    deps.log.warn(`Security event: ${event}`, { approval: idRef, taskId: record.taskId, from, ...extra });
    return refused(message);
  };
  if (!isSameOrigin(event, deps.origin)) return refuse('origin mismatch', 'This form must be sent from the approval page itself.');
  const form = formOf(event);
  if (!sameSecret(form.get('csrf') ?? undefined, cookieValue(event, CSRF_COOKIE)))
    return refuse('csrf mismatch', 'The form is stale or forged: reload the page and try again.');

  const action = form.get('action');
  if (deps.passkeys && (action === 'passkey-options' || action === 'passkey-signin')) {
    const passkeyDeps = { passkeys: deps.passkeys, responders: deps.responders, origin: deps.origin, clock: deps.clock, log: deps.log };
    if (action === 'passkey-options') return json(200, await passkeyOptions(record.incidentId, passkeyDeps), SECURITY_HEADERS);
    const signedIn = await verifyPasskeySignIn(form.get('response'), record.incidentId, passkeyDeps);
    if ('refused' in signedIn) {
      deps.log.warn('Security event: passkey sign-in refused', { approval: idRef, from, reason: signedIn.refused });
      return json(403, { message: 'Passkey not accepted. Nothing was decided.' }, SECURITY_HEADERS);
    }
    const opened = await deps.approvals.createSession(signedIn.email, record.incidentId, now);
    deps.log.info('Responder signed in for the incident', { incidentId: record.incidentId, by: signedIn.email, via: 'passkey', from });
    return json(200, { signedIn: signedIn.email, until: opened.session.expiresAt }, SECURITY_HEADERS, [sessionCookie(opened.token)]);
  }

  // Who decides: the responder signed in for this incident, or one who signs in now with a code.
  let by: ResponderSession;
  let newSession: string | undefined;
  const email = (form.get('email') ?? '').trim();
  if (session && !email) {
    by = session;
  } else {
    const responder = email ? await deps.responders.find(email) : undefined;
    if (!responder) return refuse('unknown responder', 'The email or the code is wrong. Use the code your authenticator shows now.');
    const lockout = await deps.approvals.responderLockout(responder.email, now);
    if (lockout)
      return refuse(
        'responder locked out',
        `Too many wrong codes for this responder: locked until ${lockout.until}, or until unlocked. Ask another responder.`,
      );
    // The attempt is reserved before the code is checked: parallel guesses cannot get past the limit.
    const reservation = await deps.approvals.reserveAttempt(id, responder.email, record.expiresAt, now);
    if ('refused' in reservation)
      return refuse(
        `attempt limit (${reservation.refused})`,
        reservation.refused === 'link'
          ? "Too many wrong codes for this responder on this link: use the reminder email's fresh link, or ask another responder."
          : 'Too many wrong codes for this responder recently: wait 15 minutes, or ask another responder.',
      );
    const step = totpStep(responder, (form.get('code') ?? '').trim(), deps.totpClock.now());
    if (step === null) {
      const started = await deps.approvals.wrongCode(reservation.reserved, responder.email, now);
      if (started) {
        deps.log.warn('Security event: responder locked out', { approval: idRef, from, until: started.until });
        await deps.announceLockout?.(started, from);
      }
      return refuse('bad responder or code', 'The email or the code is wrong. Use the code your authenticator shows now.');
    }
    // A right code: the reserved slots go back (only wrong codes count).
    await deps.approvals.releaseAttempt(reservation.reserved);
    if (!(await deps.approvals.useTotpStep(responder.email, step)))
      return refuse('replayed code', 'That code was already used: wait for the next one.');
    const opened = await deps.approvals.createSession(responder.email, record.incidentId, now);
    by = opened.session;
    newSession = sessionCookie(opened.token);
    deps.log.info('Responder signed in for the incident', { incidentId: record.incidentId, by: responder.email, via: 'totp', from });
  }
  const cookies = newSession ? [newSession] : undefined;

  // The task decided: this link's, or (within the session) another open task of the same incident.
  const key = form.get('task') ?? '';
  if (key && !/^APPROVAL#[0-9a-f]{64}$/.test(key)) return refused('No such task.');
  const target = key && key !== record.pk ? await deps.approvals.get(key) : record;
  if (!target) return refused('No such task.');
  if (target.incidentId !== record.incidentId)
    return refuse('task of another incident', 'That task is not part of this incident.', { target: key.slice(9, 15) });
  if (target !== record && new Date(target.expiresAt).getTime() <= now.getTime()) return expired(target.expiresAt);

  const decision = form.get('decision');
  if (!decision) {
    const others = (await deps.approvals.openTasks(record.incidentId, now)).filter((r) => r.pk !== record.pk);
    const csrf = form.get('csrf')!;
    return page(200, record.title, signedInNote(by) + renderTask(id, record, csrf, by) + renderOtherTasks(id, others, csrf, by), cookies);
  }
  if (decision !== 'approve' && decision !== 'reject') return refused('Choose approve or reject.');
  const comment = (form.get('comment') ?? '').slice(0, 500);
  const rest = async (): Promise<string> => {
    const open = (await deps.approvals.openTasks(record.incidentId, now)).filter((r) => r.pk !== target.pk);
    return renderOtherTasks(id, open, form.get('csrf')!, by);
  };
  try {
    const result = await decide(
      {
        id: target.pk,
        outcome: decision === 'approve' ? 'approved' : 'rejected',
        decidedBy: by.responder,
        via: `web from ${from}`,
        ...(comment ? { reason: comment } : {}),
      },
      { approvals: deps.approvals, sfn: deps.sfn, clock: deps.clock },
    );
    deps.log.info('Approval decided', {
      incidentId: target.incidentId,
      taskId: target.taskId,
      decision,
      by: by.responder,
      complete: result.complete,
    });
    if (!result.complete) {
      return page(
        202,
        'Recorded',
        (decision === 'approve'
          ? `<h1>Recorded</h1><p>${escapeHtml(target.title)}: your approval is recorded. A second, different responder must approve too (${result.approvals.length} of ${result.requiredApprovals}).</p>`
          : `<h1>Recorded</h1><p>${escapeHtml(target.title)}: your rejection is recorded. It stops the task only when a second, different responder rejects it too (${(result.rejections ?? []).length} of ${result.requiredApprovals}); until then the task stays open.</p>`) +
          (await rest()),
        cookies,
      );
    }
    if (result.resent) {
      return page(
        200,
        'Already recorded',
        `<h1>${decision === 'approve' ? 'Approved' : 'Rejected'} earlier</h1><p>${escapeHtml(target.title)}: your earlier decision is on the record, and the workflow has been told again. If it had already moved on to a reminder, the reminder's fresh link is the one to use.</p>` +
          (await rest()),
        cookies,
      );
    }
    return page(
      200,
      'Decided',
      `<h1>${decision === 'approve' ? 'Approved' : 'Rejected'}</h1><p>${escapeHtml(target.title)}: recorded for ${escapeHtml(by.responder)}. The response continues.</p>` +
        (await rest()),
      cookies,
    );
  } catch (error) {
    if (error instanceof ApprovalAlreadyDecidedError) return decided(error.message);
    if (error instanceof ApprovalExpiredError) return expired(error.expiresAt);
    if (error instanceof ApprovalNotFoundError) return notFound();
    throw error;
  }
}
