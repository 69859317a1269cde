import { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { TargetServiceFactory } from './target';

/** Organizations (served from us-east-1). */
export const organizations: TargetServiceFactory<'organizations'> = (connection) => () =>
  connection.once('organizations', 'us-east-1', () => new OrganizationsClient(connection.settings('us-east-1')));
