import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured JSON logger for every function (Powertools). Steps receive a `Log` in deps so
 * tests can record what was logged. Never log credentials, task tokens, approval ids or secrets:
 * `redact` strips them from any context object before it reaches a log line.
 */
export const logger = new Logger({ serviceName: 'root-responder' });

export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

const SECRET_KEY = /token|secret|password|credential|sessiontoken|accesskeysecret|signature|approvalid|otp|totp/i;

/** A deep copy of `value` with every secret-looking key replaced by "[redacted]". */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[truncated]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) ? '[redacted]' : redact(v, depth + 1);
    }
    return out;
  }
  if (typeof value === 'string' && value.length > 512) return `${value.slice(0, 512)}…`;
  return value;
}

/** A logger that keeps its lines in memory: for tests and for the drill's quiet mode. */
export function memoryLog(): Log & { lines: { level: string; message: string; context?: unknown }[] } {
  const lines: { level: string; message: string; context?: unknown }[] = [];
  const at =
    (level: string) =>
    (message: unknown, ...rest: unknown[]) => {
      lines.push({ level, message: String(message), context: rest[0] });
    };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  } as Log & { lines: { level: string; message: string; context?: unknown }[] };
}
