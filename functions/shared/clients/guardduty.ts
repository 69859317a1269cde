import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import type { TargetServiceFactory } from './target';

/** GuardDuty in one region of the target account. */
export const guardduty: TargetServiceFactory<'guardduty'> = (connection) => (region) =>
  connection.once('guardduty', region, () => new GuardDutyClient(connection.settings(region)));
