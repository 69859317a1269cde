/**
 * One class per failure. Lambda reports `error.name` as the error type, so the state machine's
 * `Retry` names the transient classes only and `Catch` routes the rest into the failure report.
 * `cause` is kept; messages never carry credentials, task tokens or approval secrets.
 */
abstract class RootResponderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The input is not an event at all (not JSON, not an object, no detail). Nothing is started. */
export class InvalidEventError extends RootResponderError {
  constructor(
    message: string,
    readonly issues: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A step received input that does not match its contract (a wiring bug, not an AWS fault). */
export class InvalidStepInputError extends RootResponderError {
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(message);
  }
}

/** The deployment's configuration (environment or stage file) is missing or invalid. */
export class ConfigError extends RootResponderError {
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(message);
  }
}

/**
 * The baseline object (expected root MFA devices, alternate contacts, organization) the stack wrote
 * to the config bucket is not there: no such bucket or key, or S3's AccessDenied, which is what a
 * reader without s3:ListBucket gets for a missing key.
 */
export class BaselineMissingError extends RootResponderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The baseline object is there but is not what the stack wrote: its digest differs from its key's, or it is not a valid baseline. */
export class InvalidBaselineError extends RootResponderError {
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(message);
  }
}

/** An AWS call failed in a way that may pass on retry (throttling, 5xx, network). */
export class TransientAwsError extends RootResponderError {
  constructor(
    readonly operation: string,
    options: { cause: unknown },
  ) {
    super(`${operation} failed transiently: ${errorName(options.cause)}`, options);
  }
}

/** The incidents table (incidents, own sessions, pipeline health, the rate meter) could not be read or written (terminal: not a throttle). */
export class IncidentStoreError extends RootResponderError {}

/** StartExecution was refused for a reason other than "already exists" (terminal). */
export class ExecutionStartError extends RootResponderError {}

/** DescribeExecution on an open incident's execution failed for a reason that is neither transient nor "does not exist" (terminal). */
export class ExecutionStatusError extends RootResponderError {}

/** A notification (alert, approval email, report) could not be published (terminal: permissions, a missing topic). */
export class NotificationError extends RootResponderError {}

/** An approval could not be created or recorded (terminal). */
export class ApprovalStoreError extends RootResponderError {}

/** No approval has this link id (never existed, or its record expired away). */
export class ApprovalNotFoundError extends RootResponderError {
  constructor() {
    super('No such approval: the link is wrong or has expired');
  }
}

/** The approval's link has expired: a decision can no longer be recorded through it. */
export class ApprovalExpiredError extends RootResponderError {
  constructor(readonly expiresAt: string) {
    super(`This approval link expired at ${expiresAt}`);
  }
}

/** The approval was already decided: a link works once. */
export class ApprovalAlreadyDecidedError extends RootResponderError {
  constructor(readonly status: string) {
    super(`This approval was already decided (${status})`);
  }
}

/** A responder rejected the task. Sent to Step Functions with SendTaskFailure; the ASL catches it by name. */
export class ApprovalRejectedError extends RootResponderError {
  constructor(reason: string) {
    super(reason);
  }
}

/** An evidence file could not be written (terminal: permissions, a missing bucket, a bad path). */
export class EvidenceWriteError extends RootResponderError {}

/** An object an earlier step wrote (findings, the plan) could not be read back or does not parse (terminal). */
export class EvidenceReadError extends RootResponderError {}

/** AWS refused a call for lack of permission or a disabled feature (terminal; names the action). */
export class AccessDeniedError extends RootResponderError {
  constructor(
    readonly operation: string,
    options: { cause: unknown },
  ) {
    super(`${operation} was refused: ${(options.cause as Error)?.message ?? 'access denied'}`, options);
  }
}

/** An AWS call failed for a reason that is neither transient nor a permission (terminal). */
export class AwsCallError extends RootResponderError {
  constructor(
    readonly operation: string,
    options: { cause: unknown },
  ) {
    super(`${operation} failed: ${errorName(options.cause)}: ${(options.cause as Error)?.message ?? ''}`.slice(0, 500), options);
  }
}

/** Names of AWS SDK errors that are safe to retry. */
const TRANSIENT_AWS_ERROR_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'InternalServerException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ECONNRESET',
  'ETIMEDOUT',
]);

export function errorName(error: unknown): string {
  if (error instanceof Error) return error.name;
  return typeof error;
}

/** True for throttling, 5xx and network errors from the AWS SDK. */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (TRANSIENT_AWS_ERROR_NAMES.has(error.name)) return true;
  const meta = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const status = meta?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  const retryable = (error as { $retryable?: unknown }).$retryable;
  return retryable !== undefined && retryable !== null;
}

/** An AWS SDK v3 exception class, e.g. `NoSuchEntityException` from @aws-sdk/client-iam. */
export type AwsErrorClass = abstract new (...args: never[]) => Error;

/**
 * Whether `error` is one of these AWS SDK exceptions, or is our typed error (AwsCallError,
 * AccessDeniedError, ...) around one as its `cause`. SDK v3 names an error by its modeled exception
 * (IAM's wire code `NoSuchEntity` arrives as `NoSuchEntityException`), so compare with the SDK's own
 * classes, never wire codes. By class or by name: each deployed bundle has its own copy of the SDK,
 * so `instanceof` alone is false for an error built by another copy (esbuild's `keepNames` keeps the
 * class names in the bundles).
 */
export function isAwsError(error: unknown, ...classes: AwsErrorClass[]): boolean {
  const aws = error instanceof RootResponderError ? error.cause : error;
  if (!(aws instanceof Error)) return false;
  const name = aws.name;
  return classes.some((C) => aws instanceof C || name === C.name);
}

/** A log-safe summary of an error: name and message, never request parameters. */
export function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: typeof error, message: String(error) };
}

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthorizationError',
  'InvalidClientTokenId',
  'ExpiredToken',
]);

/** An AWS SDK error as the typed error the state machine tells apart, naming the operation. */
export function typedAwsError(operation: string, error: unknown): TransientAwsError | AccessDeniedError | AwsCallError {
  if (isTransientAwsError(error)) return new TransientAwsError(operation, { cause: error });
  if (error instanceof Error && ACCESS_DENIED.has(error.name)) return new AccessDeniedError(operation, { cause: error });
  return new AwsCallError(operation, { cause: error });
}

/** The class a store throws for a failure that is not transient: `(message, { cause })`. */
export type StoreErrorClass = new (message: string, options: { cause: unknown }) => Error;

/**
 * A failed call to one of our own resources (a table, the evidence bucket, a topic) as the typed
 * error the state machine tells apart: throttling, 5xx and network errors are TransientAwsError
 * naming the operation (retried), anything else the store's own class, "<what failed>: <AWS error
 * name>", with the AWS error kept as `cause`.
 */
export function storeError(operation: string, error: unknown, ErrorClass: StoreErrorClass, failed: string): Error {
  if (isTransientAwsError(error)) return new TransientAwsError(operation, { cause: error });
  return new ErrorClass(`${failed}: ${errorName(error)}`, { cause: error });
}

async function mapFailure<T>(run: () => Promise<T>, map: (error: unknown) => Error, expected?: (error: unknown) => boolean): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (expected?.(error)) throw error;
    throw map(error);
  }
}

/** Run one AWS call; map its failure onto the typed errors the state machine tells apart. */
export function awsCall<T>(operation: string, run: () => Promise<T>): Promise<T> {
  return mapFailure(run, (error) => typedAwsError(operation, error));
}

/**
 * Run one call of a store (see storeError for the mapping). `failed` says what failed in the
 * store's words. `expected`: failures the caller handles itself (a write whose condition did not
 * hold), thrown to it as the SDK threw them, unmapped.
 */
export function storeCall<T>(
  operation: string,
  run: () => Promise<T>,
  ErrorClass: StoreErrorClass,
  failed: string,
  expected?: (error: unknown) => boolean,
): Promise<T> {
  return mapFailure(run, (error) => storeError(operation, error, ErrorClass, failed), expected);
}

/**
 * An AWS call whose listed error names mean "nothing there" (the resource or the grant is already
 * gone): undefined then; any other failure as typedAwsError types it. The exposure undos' reads and
 * removals are idempotent through it.
 */
export async function unlessAbsent<T>(operation: string, run: () => Promise<T>, absent: string[]): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Error && absent.includes(error.name)) return undefined;
    throw typedAwsError(operation, error);
  }
}
