import { LambdaClient } from '@aws-sdk/client-lambda';
import type { TargetServiceFactory } from './target';

/** Lambda in one region of the target account (the function permission and URL undos). */
export const lambda: TargetServiceFactory<'lambda'> = (connection) => (region) =>
  connection.once('lambda', region, () => new LambdaClient(connection.settings(region)));
