import { GetObjectCommand, NoSuchBucket, NoSuchKey } from '@aws-sdk/client-s3';
import { type Baseline, parseBaseline, type RuntimeConfig } from './config';
import { BaselineMissingError, isAwsError, typedAwsError } from './errors';

/** What reading the baseline needs: GetObject on exactly the baseline object (infra/roles.cjs scopes it). */
export const baselinePermissions = ['s3:GetObject'] as const;

/** The one call the reader makes: the handler's `s3Client()` (the drill's simulated S3 in a drill). */
export interface BaselineSource {
  send(command: GetObjectCommand): Promise<{ Body?: { transformToString(encoding?: string): Promise<string> } }>;
}

/**
 * Read the baseline object once (a function calls this once per invocation, when it builds its
 * deps) and parse it: a missing object is a BaselineMissingError, one that is not what the stack
 * wrote an InvalidBaselineError, a transient S3 failure a TransientAwsError (retried by the state
 * machine), any other failure the typed AWS error.
 */
export async function readBaseline(
  config: Pick<RuntimeConfig, 'BASELINE_BUCKET' | 'BASELINE_OBJECT'>,
  s3: BaselineSource,
): Promise<Baseline> {
  const where = `s3://${config.BASELINE_BUCKET}/${config.BASELINE_OBJECT}`;
  let body: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: config.BASELINE_BUCKET, Key: config.BASELINE_OBJECT }));
    body = (await object.Body?.transformToString('utf-8')) ?? '';
  } catch (error) {
    if (isAwsError(error, NoSuchKey, NoSuchBucket))
      throw new BaselineMissingError(`The baseline object ${where} does not exist: deploy the stack again to write it`, { cause: error });
    // S3 answers a missing key with AccessDenied to a reader that may not list the bucket (ours may not).
    if (error instanceof Error && error.name === 'AccessDenied')
      throw new BaselineMissingError(
        `The baseline object ${where} could not be read (AccessDenied: it is missing, or this function's role may not read it)`,
        { cause: error },
      );
    throw typedAwsError('s3:GetObject', error);
  }
  return parseBaseline(body, config.BASELINE_OBJECT);
}
