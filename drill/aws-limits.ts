/**
 * The service limits AWS enforces that the drill enforces too, with the errors AWS gives.
 * Step Functions (service quotas page and the StartExecution API reference): 256 KiB per state input,
 * output and task result (States.DataLimitExceeded, which `States.ALL` does not catch: the execution
 * fails); 25,000 events in an execution's history (the execution fails); execution names of 1-80
 * characters without white space, brackets, wildcards, special or control characters (InvalidName);
 * StartExecution input up to 262,144 bytes of UTF-8 (a length constraint: ValidationException).
 * Lambda (quotas page): an asynchronous invocation's payload is at most 256 KB
 * (RequestTooLargeException).
 */
export const AWS_LIMITS = {
  stateBytes: 256 * 1024,
  asyncInvokeBytes: 256 * 1024,
  historyEvents: 25_000,
  executionNameLength: 80,
} as const;

export function byteSize(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** The runner lets an error say it cannot be caught or retried; AWS's DataLimitExceeded is both. */
export function dataLimitExceeded(message: string): Error {
  return Object.assign(new Error(message), { name: 'States.DataLimitExceeded', isCatchable: false, isRetryable: false });
}

// White space, < > { } [ ], ? *, " # % \ ^ | ~ ` $ & , ; : /, and control characters U+0000-001F, U+007F-009F.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_IN_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

/** StartExecution's InvalidName, or undefined for a valid name. */
export function invalidExecutionName(name: string): Error | undefined {
  if (name.length >= 1 && name.length <= AWS_LIMITS.executionNameLength && !FORBIDDEN_IN_NAME.test(name)) return undefined;
  return Object.assign(new Error(`Invalid Name: '${name}'`), { name: 'InvalidName' });
}
