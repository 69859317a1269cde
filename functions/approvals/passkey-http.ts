import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { Clock } from '#shared/clock';
import { escapeHtml } from '#shared/html';
import type { Log } from '#shared/logger';
import type { PasskeyStore } from '#shared/passkeys';
import type { ResponderDirectory } from '#shared/responders';

/**
 * Passkeys (WebAuthn) for the approval pages: a one-time enrollment page (/passkeys/{token}, the
 * link the CLI prints) and sign-in by passkey on an incident's page. The RP ID is the approval
 * site's host name and the expected origin its origin: a passkey made for another site (a
 * look-alike domain) is refused, which is what makes it phishing-resistant where a TOTP code is not.
 */
export interface PasskeyDeps {
  passkeys: PasskeyStore;
  responders: ResponderDirectory;
  origin: string;
  clock: Clock;
  log: Log;
}

const rpId = (origin: string) => new URL(origin).hostname;

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string>,
  cookies?: string[],
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
    ...(cookies ? { cookies } : {}),
    body: JSON.stringify(body),
  };
}

export const newNonce = () => randomBytes(16).toString('base64');

/** The browser side: ask for options, let the authenticator answer, send its answer (same page, same CSRF token). */
const CLIENT = `
const post = (body) => fetch(location.pathname, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ csrf: document.querySelector('input[name=csrf]').value, ...body }) });
const say = (text) => { document.getElementById('passkey-status').textContent = text; };`;

/** The sign-in-with-passkey button and its script, for an incident page. */
export function passkeySignIn(nonce: string): string {
  return (
    `<p><button type="button" id="passkey">Sign in with a passkey</button> <span id="passkey-status" role="status"></span></p>` +
    `<script nonce="${escapeHtml(nonce)}">${CLIENT}
document.getElementById('passkey').addEventListener('click', async () => {
  try {
    const options = await (await post({ action: 'passkey-options' })).json();
    const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
    const res = await post({ action: 'passkey-signin', response: JSON.stringify(credential.toJSON()) });
    if (res.ok) location.reload(); else say((await res.json()).message);
  } catch (e) { say('No passkey sign-in: ' + e.message); }
});</script>`
  );
}

export async function passkeyOptions(incidentId: string, deps: PasskeyDeps): Promise<unknown> {
  const options = await generateAuthenticationOptions({ rpID: rpId(deps.origin), userVerification: 'preferred', allowCredentials: [] });
  await deps.passkeys.saveChallenge(options.challenge, incidentId, deps.clock.now());
  return options;
}

/** Verify a passkey sign-in for this incident: the responder's email, or why not. */
export async function verifyPasskeySignIn(
  raw: string | null,
  incidentId: string,
  deps: PasskeyDeps,
): Promise<{ email: string } | { refused: string }> {
  let response: { id?: unknown; response?: { clientDataJSON?: unknown } };
  let challenge: string;
  try {
    response = JSON.parse(raw ?? '') as typeof response;
    const clientData = JSON.parse(Buffer.from(String(response.response?.clientDataJSON), 'base64url').toString('utf8')) as {
      challenge?: unknown;
    };
    challenge = String(clientData.challenge);
  } catch {
    return { refused: 'malformed passkey response' };
  }
  const now = deps.clock.now();
  const forIncident = await deps.passkeys.takeChallenge(challenge, now);
  if (forIncident !== incidentId) return { refused: 'unknown, used or foreign challenge' };
  const credentialId = String(response.id);
  const stored = await deps.passkeys.passkey(credentialId);
  if (!stored) return { refused: 'unknown passkey' };
  try {
    const { verified, authenticationInfo } = await verifyAuthenticationResponse({
      response: response as never,
      expectedChallenge: challenge,
      expectedOrigin: deps.origin,
      expectedRPID: rpId(deps.origin),
      credential: {
        id: credentialId,
        publicKey: new Uint8Array(Buffer.from(stored.publicKey, 'base64url')),
        counter: stored.counter,
        ...(stored.transports ? { transports: stored.transports } : {}),
      },
      requireUserVerification: false,
    });
    if (!verified) return { refused: 'passkey not verified' };
    await deps.passkeys.updateCounter(credentialId, stored, authenticationInfo.newCounter);
  } catch (error) {
    // The library says why (wrong origin, wrong RP ID, bad signature): logged by name only.
    return { refused: `passkey refused: ${(error as Error).message.slice(0, 160)}` };
  }
  // A responder removed from the directory can no longer sign in, passkey or not.
  const responder = await deps.responders.find(stored.email);
  return responder ? { email: responder.email } : { refused: 'passkey of a responder no longer enrolled' };
}

/** The enrollment page and its two POSTs (options, register). */
export async function handlePasskeyEnrollment(
  event: APIGatewayProxyEventV2,
  deps: PasskeyDeps,
  web: {
    page: (status: number, title: string, body: string, cookies?: string[], nonce?: string) => APIGatewayProxyStructuredResultV2;
    headers: Record<string, string>;
    csrfCookie: string;
    cookieValue: (event: APIGatewayProxyEventV2, name: string) => string | undefined;
    sameOrigin: (event: APIGatewayProxyEventV2) => boolean;
    sameSecret: (a: string | undefined, b: string | undefined) => boolean;
    form: (event: APIGatewayProxyEventV2) => URLSearchParams;
  },
): Promise<APIGatewayProxyStructuredResultV2> {
  const token = event.pathParameters?.['id'] ?? '';
  const method = event.requestContext?.http?.method ?? 'GET';
  const from = event.requestContext?.http?.sourceIp ?? 'unknown';
  const now = deps.clock.now();
  const enrollment = await deps.passkeys.enrollment(token, now);
  if (!enrollment)
    return web.page(404, 'Not found', '<h1>No such enrollment</h1><p>The link is wrong, used or expired. Ask for a new one.</p>');
  if (method === 'GET') {
    const csrf = randomBytes(32).toString('base64url');
    const nonce = newNonce();
    const lifetime = Math.max(1, Math.ceil((new Date(enrollment.expiresAt).getTime() - now.getTime()) / 1000));
    return web.page(
      200,
      'Enroll a passkey',
      `<h1>Enroll a passkey</h1><p>For <strong>${escapeHtml(enrollment.email)}</strong>, on this approval site only. This link works once.</p>` +
        `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">` +
        `<p><button type="button" id="enroll">Create passkey</button> <span id="passkey-status" role="status"></span></p>` +
        `<script nonce="${escapeHtml(nonce)}">${CLIENT}
document.getElementById('enroll').addEventListener('click', async () => {
  try {
    const options = await (await post({ action: 'options' })).json();
    const credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
    const res = await post({ action: 'register', response: JSON.stringify(credential.toJSON()) });
    say((await res.json()).message);
  } catch (e) { say('Not enrolled: ' + e.message); }
});</script>`,
      [`${web.csrfCookie}=${csrf}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${lifetime}`],
      nonce,
    );
  }
  if (method !== 'POST') return web.page(405, 'Method not allowed', '<h1>Method not allowed</h1>');
  const form = web.form(event);
  if (!web.sameOrigin(event) || !web.sameSecret(form.get('csrf') ?? undefined, web.cookieValue(event, web.csrfCookie))) {
    deps.log.warn('Security event: forged passkey enrollment request', { from });
    return json(403, { message: 'Refused: send this from the enrollment page itself.' }, web.headers);
  }
  if (form.get('action') === 'options') {
    const options = await generateRegistrationOptions({
      rpName: 'root-responder approvals',
      rpID: rpId(deps.origin),
      userName: enrollment.email,
      attestationType: 'none',
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    });
    await deps.passkeys.setEnrollmentChallenge(token, options.challenge);
    return json(200, options, web.headers);
  }
  if (form.get('action') !== 'register' || !enrollment.challenge) return json(400, { message: 'Ask for options first.' }, web.headers);
  try {
    const { verified, registrationInfo } = await verifyRegistrationResponse({
      response: JSON.parse(form.get('response') ?? '') as never,
      expectedChallenge: enrollment.challenge,
      expectedOrigin: deps.origin,
      expectedRPID: rpId(deps.origin),
      requireUserVerification: false,
    });
    if (!verified || !registrationInfo) throw new Error('not verified');
    const { credential } = registrationInfo;
    const stored = await deps.passkeys.finishEnrollment(token, credential.id, {
      email: enrollment.email,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      ...(credential.transports ? { transports: credential.transports } : {}),
    });
    if (!stored) return json(409, { message: 'This enrollment link was used already.' }, web.headers);
    deps.log.info('Passkey enrolled', { by: enrollment.email, from });
    return json(200, { message: `Passkey enrolled for ${enrollment.email}.` }, web.headers);
  } catch (error) {
    deps.log.warn('Security event: passkey enrollment refused', { from, reason: (error as Error).message.slice(0, 160) });
    return json(403, { message: 'Passkey not accepted.' }, web.headers);
  }
}
