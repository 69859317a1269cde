import { AccountClient } from '@aws-sdk/client-account';
import type { TargetServiceFactory } from './target';

/** The Account API (served from us-east-1). */
export const account: TargetServiceFactory<'account'> = (connection) => () =>
  connection.once('account', 'us-east-1', () => new AccountClient(connection.settings('us-east-1')));
