import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

/**
 * One structured JSON logger for every function (Powertools). Steps receive a `Log` in deps so
 * tests can record what was logged. Never log credentials, task tokens, approval ids or secrets:
 * every line passes through `RedactingLogFormatter`, which replaces the value of any
 * secret-looking key, at any depth, before the line is written. Errors keep their name, message,
 * stack and cause (Powertools formats them).
 */
export class RedactingLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    const base: LogAttributes = {
      level: attributes.logLevel,
      message: attributes.message,
      timestamp: this.formatTimestamp(attributes.timestamp),
      service: attributes.serviceName,
      cold_start: attributes.lambdaContext?.coldStart,
      function_arn: attributes.lambdaContext?.invokedFunctionArn,
      function_memory_size: attributes.lambdaContext?.memoryLimitInMB,
      function_name: attributes.lambdaContext?.functionName,
      function_request_id: attributes.lambdaContext?.awsRequestId,
      xray_trace_id: attributes.xRayTraceId,
    };
    return new LogItem({ attributes: base }).addAttributes(redact(additionalLogAttributes) as LogAttributes);
  }
}

export function createLogger(options: { logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT' } = {}): Logger {
  return new Logger({ serviceName: 'root-responder', logFormatter: new RedactingLogFormatter(), ...options });
}

export const logger = createLogger();

export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

const SECRET_KEY = /token|secret|password|credential|sessiontoken|accesskeysecret|signature|approvalid|otp|totp/i;

/** A deep copy of `value` with every secret-looking key replaced by "[redacted]" (errors are kept: Powertools formats them). */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[truncated]';
  if (value instanceof Error) return value;
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
  };
}
