import { IAMClient } from '@aws-sdk/client-iam';
import { RETRY } from './core';
import type { TargetServiceFactory } from './target';

/** IAM on the target account (served from us-east-1), or under an AssumeRoot session's credentials. */
export const iam: TargetServiceFactory<'iam'> = (connection) => (session) =>
  session
    ? new IAMClient({ ...RETRY, region: 'us-east-1', credentials: session })
    : connection.once('iam', 'us-east-1', () => new IAMClient(connection.settings('us-east-1')));
