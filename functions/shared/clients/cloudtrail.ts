import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { TargetServiceFactory } from './target';

/** CloudTrail in one region of the target account. */
export const cloudtrail: TargetServiceFactory<'cloudtrail'> = (connection) => (region) =>
  connection.once('cloudtrail', region, () => new CloudTrailClient(connection.settings(region)));
