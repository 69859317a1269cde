import { EC2Client } from '@aws-sdk/client-ec2';
import type { TargetServiceFactory } from './target';

/** EC2 in one region of the target account (the exposure undos). */
export const ec2: TargetServiceFactory<'ec2'> = (connection) => (region) =>
  connection.once('ec2', region, () => new EC2Client(connection.settings(region)));
