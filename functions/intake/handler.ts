import type { Context } from 'aws-lambda';
import { runtimeConfig } from '#shared/config';
import { clock } from '#shared/clients';
import { documentClient } from '#shared/clients/dynamodb';
import { sfnClient } from '#shared/clients/sfn';
import { snsClient } from '#shared/clients/sns';
import { IncidentStore } from '#shared/incident-store';
import { OwnSessionStore } from '#shared/own-session-store';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import { knownSources } from '#shared/known-sources';
import { logger } from '#shared/logger';
import { intake, type IntakeDeps, type IntakeResult } from './intake';

function buildDeps(): IntakeDeps {
  const config = runtimeConfig();
  return {
    store: new IncidentStore(documentClient(), config.INCIDENTS_TABLE),
    ownSessions: new OwnSessionStore(documentClient(), config.INCIDENTS_TABLE),
    pipeline: new PipelineHealthStore(documentClient(), config.INCIDENTS_TABLE),
    sfn: sfnClient(),
    sns: snsClient(),
    clock: clock(),
    log: logger,
    config: {
      stateMachineArn: config.STATE_MACHINE_ARN,
      alertTopicArn: config.ALERT_TOPIC_ARN,
      knownSources: knownSources(config.KNOWN_SOURCE_CIDRS),
      settings: { approvalWaitSeconds: config.REMINDER_INTERVAL_SECONDS, maxReminders: config.MAX_REMINDERS },
    },
  };
}

/** EventBridge -> intake. A thrown error is retried, then kept in the dead-letter queue. */
export const handler = async (event: unknown, context?: Context): Promise<IntakeResult> => {
  if (context) logger.addContext(context);
  try {
    const result = await intake(event, buildDeps());
    if ('incidentId' in result) logger.appendKeys({ incidentId: result.incidentId });
    logger.info('Intake finished', { outcome: result.outcome });
    return result;
  } catch (error) {
    logger.error('Intake failed', { error: error as Error });
    throw error;
  } finally {
    logger.removeKeys(['incidentId']);
  }
};
export { requiredPermissions } from './intake';
