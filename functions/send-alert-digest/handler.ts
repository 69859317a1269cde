import type { Context } from 'aws-lambda';
import { clock } from '#shared/clients';
import { documentClient } from '#shared/clients/dynamodb';
import { snsClient } from '#shared/clients/sns';
import { runtimeConfig } from '#shared/config';
import { AlertDigestStore } from '#shared/alert-digest-store';
import { NotificationError } from '#shared/errors';
import { logger } from '#shared/logger';
import { type AlertDigestRun, sendAlertDigests } from './send-alert-digest';

/** Scheduled (every ALERT_DIGEST_MINUTES): the alert digest. Its input, the schedule's event, is not read. */
export const handler = async (_event?: unknown, context?: Context): Promise<AlertDigestRun> => {
  if (context) logger.addContext(context);
  const config = runtimeConfig();
  let run: AlertDigestRun;
  try {
    run = await sendAlertDigests({
      digests: new AlertDigestStore(documentClient(), config.INCIDENTS_TABLE),
      sns: snsClient(),
      alertTopicArn: config.ALERT_TOPIC_ARN,
      intervalMinutes: config.ALERT_DIGEST_MINUTES,
      clock: clock(),
      log: logger,
    });
  } catch (error) {
    logger.error('Alert digest failed', { error: error as Error });
    throw error;
  }
  // A digest not sent is counted again next run; failing here makes it visible (Lambda's Errors metric) and retried.
  if (run.failed.length > 0)
    throw new NotificationError(`${run.failed.length} alert digest(s) not sent: ${run.failed.map((f) => f.error).join(', ')}`);
  return run;
};

export { requiredPermissions } from './send-alert-digest';
