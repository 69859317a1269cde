import { S3Client } from '@aws-sdk/client-s3';
import { type ObjectReader, type ObjectWriter, S3Reader, S3Writer } from '../evidence';
import { inRegion, local, once, RETRY } from './core';

/** S3 (the evidence bucket). */
export function s3Client(region?: string): S3Client {
  const drill = local();
  if (drill?.s3) return drill.s3;
  return once(`s3:${region ?? ''}`, () => new S3Client({ ...RETRY, ...inRegion(region) }));
}

/** Evidence and report objects under a prefix of the evidence bucket (or the drill's folder). */
export function objectWriter(bucket: string, prefix: string): ObjectWriter {
  const drill = local();
  if (drill?.objectWriter) return drill.objectWriter(prefix);
  return new S3Writer(s3Client(), bucket, prefix);
}

/** Read back objects under a prefix of the evidence bucket (or the drill's folder). */
export function objectReader(bucket: string, prefix: string): ObjectReader {
  const drill = local();
  if (drill?.objectReader) return drill.objectReader(prefix);
  return new S3Reader(s3Client(), bucket, prefix);
}
