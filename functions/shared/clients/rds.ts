import { RDSClient } from '@aws-sdk/client-rds';
import type { TargetServiceFactory } from './target';

/** RDS in one region of the target account (the snapshot-share undos). */
export const rds: TargetServiceFactory<'rds'> = (connection) => (region) =>
  connection.once('rds', region, () => new RDSClient(connection.settings(region)));
