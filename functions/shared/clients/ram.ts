import { RAMClient } from '@aws-sdk/client-ram';
import type { TargetServiceFactory } from './target';

/** Resource Access Manager in one region of the target account (the resource-share undo). */
export const ram: TargetServiceFactory<'ram'> = (connection) => (region) =>
  connection.once('ram', region, () => new RAMClient(connection.settings(region)));
