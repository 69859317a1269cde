import type { Context } from 'aws-lambda';
import { type RuntimeConfig, runtimeConfig } from '#shared/config';
import { clock } from '#shared/clients';
import { documentClient } from '#shared/clients/dynamodb';
import { organizations } from '#shared/clients/organizations';
import { sfnClient } from '#shared/clients/sfn';
import { snsClient } from '#shared/clients/sns';
import { targetClients } from '#shared/clients/target';
import { AlertDigestStore } from '#shared/alert-digest-store';
import { IncidentStore } from '#shared/incident-store';
import { OrganizationMembership } from '#shared/organization-membership';
import { OwnSessionStore } from '#shared/own-session-store';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import { knownSources } from '#shared/known-sources';
import { logger } from '#shared/logger';
import { intake, type IntakeDeps, type IntakeResult } from './intake';

/** Kept across a warm Lambda's invocations (per configuration: one in Lambda, one per drill): a burst asks Organizations once. */
const memberships = new WeakMap<RuntimeConfig, OrganizationMembership>();

function membershipFor(config: RuntimeConfig): OrganizationMembership {
  let membership = memberships.get(config);
  if (!membership) {
    membership = new OrganizationMembership(() =>
      targetClients({ accountId: config.RESPONDER_ACCOUNT_ID }, { organizations }).organizations(),
    );
    memberships.set(config, membership);
  }
  return membership;
}

function buildDeps(): IntakeDeps {
  const config = runtimeConfig();
  return {
    store: new IncidentStore(documentClient(), config.INCIDENTS_TABLE),
    ownSessions: new OwnSessionStore(documentClient(), config.INCIDENTS_TABLE),
    pipeline: new PipelineHealthStore(documentClient(), config.INCIDENTS_TABLE),
    digests: new AlertDigestStore(documentClient(), config.INCIDENTS_TABLE),
    ...(config.MODE === 'organization' ? { membership: membershipFor(config) } : {}),
    sfn: sfnClient(),
    sns: snsClient(),
    clock: clock(),
    log: logger,
    config: {
      stateMachineArn: config.STATE_MACHINE_ARN,
      alertTopicArn: config.ALERT_TOPIC_ARN,
      knownSources: knownSources(config.KNOWN_SOURCE_CIDRS),
      settings: { approvalWaitSeconds: config.REMINDER_INTERVAL_SECONDS, maxReminders: config.MAX_REMINDERS },
      responderAccountId: config.RESPONDER_ACCOUNT_ID,
      digestIntervalSeconds: config.ALERT_DIGEST_MINUTES * 60,
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
