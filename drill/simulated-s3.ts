import {
  type DeleteObjectCommand,
  type GetObjectCommand,
  NoSuchBucket,
  type PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { isCommand } from './simulated-dynamodb';

/**
 * The config bucket's stand-in: GetObject, PutObject and DeleteObject on whole objects, answering as S3 does.
 * - A missing bucket: NoSuchBucket (404).
 * - A missing key: S3 answers NoSuchKey (404) only to a caller allowed s3:ListBucket on the bucket,
 *   and AccessDenied (403) to any other ("If you don't have the s3:ListBucket permission, Amazon S3
 *   returns an HTTP status code 403 (access denied) error", S3 API reference, GetObject). The
 *   functions that read the baseline may GetObject its one key and nothing else, so they get
 *   AccessDenied, the SDK's S3ServiceException of that name.
 * - DeleteObject of a missing key succeeds (204), as in an unversioned bucket.
 * The body is the SDK's stream mixin as far as the code uses it: `transformToString()`.
 */
export class SimulatedS3 {
  private readonly buckets = new Map<string, Map<string, string>>();
  /** Every GetObject, in order (a test counts the reads per invocation). */
  readonly reads: { bucket: string; key: string }[] = [];

  createBucket(bucket: string): void {
    if (!this.buckets.has(bucket)) this.buckets.set(bucket, new Map());
  }

  /** Put an object as the stack (or a test) would, bypassing the functions' permissions. */
  put(bucket: string, key: string, body: string): void {
    this.createBucket(bucket);
    this.buckets.get(bucket)!.set(key, body);
  }

  delete(bucket: string, key: string): void {
    this.buckets.get(bucket)?.delete(key);
  }

  send(command: GetObjectCommand | PutObjectCommand | DeleteObjectCommand): Promise<{ Body?: { transformToString(): Promise<string> } }> {
    if (isCommand<GetObjectCommand>(command, 'GetObjectCommand')) {
      const { Bucket, Key } = command.input;
      this.reads.push({ bucket: Bucket ?? '', key: Key ?? '' });
      const objects = this.buckets.get(Bucket ?? '');
      if (!objects)
        return Promise.reject(new NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: { httpStatusCode: 404 } }));
      const body = objects.get(Key ?? '');
      if (body === undefined)
        return Promise.reject(
          new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'Access Denied', $metadata: { httpStatusCode: 403 } }),
        );
      return Promise.resolve({
        Body: { transformToString: () => Promise.resolve(body) },
        ContentLength: Buffer.byteLength(body, 'utf8'),
        ContentType: 'application/json',
      });
    }
    if (isCommand<PutObjectCommand>(command, 'PutObjectCommand')) {
      const { Bucket, Key, Body } = command.input;
      if (!this.buckets.has(Bucket ?? ''))
        return Promise.reject(new NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: { httpStatusCode: 404 } }));
      if (typeof Body !== 'string') return Promise.reject(new Error('The simulated S3 takes string bodies only (the code puts JSON text)'));
      this.put(Bucket!, Key!, Body);
      return Promise.resolve({});
    }
    if (isCommand<DeleteObjectCommand>(command, 'DeleteObjectCommand')) {
      const { Bucket, Key } = command.input;
      if (!this.buckets.has(Bucket ?? ''))
        return Promise.reject(new NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: { httpStatusCode: 404 } }));
      this.delete(Bucket!, Key!);
      return Promise.resolve({});
    }
    const name = (command as { constructor: { name: string } }).constructor.name;
    return Promise.reject(new Error(`The simulated S3 has no ${name}: the code sends GetObject, PutObject and DeleteObject only`));
  }
}
