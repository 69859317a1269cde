import { KMSClient } from '@aws-sdk/client-kms';
import type { TargetServiceFactory } from './target';

/** KMS in one region of the target account (the key policy and grant undos). */
export const kms: TargetServiceFactory<'kms'> = (connection) => (region) =>
  connection.once('kms', region, () => new KMSClient(connection.settings(region)));
