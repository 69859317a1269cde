import { STSClient } from '@aws-sdk/client-sts';
import type { TargetServiceFactory } from './target';

/** STS on a regional endpoint (AssumeRoot needs one). */
export const sts: TargetServiceFactory<'sts'> = (connection) => (region) =>
  connection.once('sts', region, () => new STSClient(connection.settings(region)));
