import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { TargetServiceFactory } from './target';

/** EventBridge in one region of the target account (`events` is its IAM prefix and its TargetClients name). */
export const events: TargetServiceFactory<'events'> = (connection) => (region) =>
  connection.once('events', region, () => new EventBridgeClient(connection.settings(region)));
