import { S3Client } from '@aws-sdk/client-s3';
import type { TargetServiceFactory } from './target';

/** The target account's own buckets in one region (the S3 exposure undos); not the evidence bucket (`s3.ts`). */
export const s3: TargetServiceFactory<'s3'> = (connection) => (region) =>
  connection.once('s3', region, () => new S3Client(connection.settings(region)));
