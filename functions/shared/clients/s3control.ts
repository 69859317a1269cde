import { S3ControlClient } from '@aws-sdk/client-s3-control';
import type { TargetServiceFactory } from './target';

/** Account-level S3 settings of the target account (its public access block). */
export const s3control: TargetServiceFactory<'s3control'> = (connection) => (region) =>
  connection.once('s3control', region, () => new S3ControlClient(connection.settings(region)));
