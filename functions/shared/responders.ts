import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Secret, TOTP } from 'otpauth';
import { z } from 'zod';
import { awsCall } from './errors';

/**
 * The responders who may decide approvals, enrolled ahead of time and out of band: each has a TOTP
 * secret (their authenticator app) kept in Secrets Manager, never in the environment, a log or
 * an email. A decision needs the responder's current code, and a code works once.
 */
export interface Responder {
  email: string;
  name: string;
  totpSecret: string;
}

export const RespondersDocumentSchema = z.object({
  responders: z.array(z.object({ email: z.email(), name: z.string().min(1), totpSecret: z.string().regex(/^[A-Z2-7]{16,}$/) })),
});

export interface ResponderDirectory {
  find(email: string): Promise<Responder | undefined>;
}

export const respondersPermissions = ['secretsmanager:GetSecretValue'] as const;

export class SecretsManagerDirectory implements ResponderDirectory {
  private cache: { at: number; responders: Responder[] } | undefined;

  constructor(
    private readonly sm: Pick<SecretsManagerClient, 'send'>,
    private readonly secretId: string,
    private readonly ttlMs = 60_000,
  ) {}

  async find(email: string): Promise<Responder | undefined> {
    if (!this.cache || Date.now() - this.cache.at > this.ttlMs) {
      const out = await awsCall('secretsmanager:GetSecretValue', () =>
        this.sm.send(new GetSecretValueCommand({ SecretId: this.secretId })),
      );
      const doc = RespondersDocumentSchema.parse(JSON.parse(out.SecretString ?? '{"responders": []}'));
      this.cache = { at: Date.now(), responders: doc.responders };
    }
    return this.cache.responders.find((r) => r.email.toLowerCase() === email.trim().toLowerCase());
  }
}

export const TOTP_PERIOD_SECONDS = 30;

function totp(responder: Pick<Responder, 'email' | 'totpSecret'>): TOTP {
  return new TOTP({
    issuer: 'root-responder',
    label: responder.email,
    algorithm: 'SHA1',
    digits: 6,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(responder.totpSecret),
  });
}

/** A new responder: a fresh 160-bit secret and the otpauth:// URI to put in an authenticator app. */
export function enroll(email: string, name: string): { responder: Responder; otpauthUri: string } {
  const responder = { email, name, totpSecret: new Secret({ size: 20 }).base32 };
  return { responder, otpauthUri: totp(responder).toString() };
}

/** The TOTP time step a code is valid for (one step of clock drift either way), or null. */
export function totpStep(responder: Responder, code: string, now: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totp(responder).validate({ token: code, timestamp: now.getTime(), window: 1 });
  if (delta === null) return null;
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS) + delta;
}

/** The current code (for the drill's simulated responders and for tests). */
export function currentCode(responder: Responder, now: Date): string {
  return totp(responder).generate({ timestamp: now.getTime() });
}
