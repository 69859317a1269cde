import type { Context } from 'aws-lambda';
import { clock, metricsSink } from '#shared/clients';
import { account } from '#shared/clients/account';
import { documentClient } from '#shared/clients/dynamodb';
import { events } from '#shared/clients/events';
import { organizations } from '#shared/clients/organizations';
import { snsClient } from '#shared/clients/sns';
import { targetClients } from '#shared/clients/target';
import { runtimeConfig } from '#shared/config';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import { logger } from '#shared/logger';
import { embeddedMetrics } from '#shared/metrics';
import { memberRolePermissions, targetFor } from '#shared/target';
import { checkPipeline, type PipelineCheck, requiredPermissions as stepPermissions } from './check-pipeline';

/** Scheduled (every canary interval): the pipeline check. Its input, the schedule's event, is not read. */
export const handler = async (_event?: unknown, context?: Context): Promise<PipelineCheck> => {
  if (context) logger.addContext(context);
  const config = runtimeConfig();
  try {
    return await checkPipeline({
      mode: config.MODE,
      stage: config.STAGE,
      responderAccountId: config.RESPONDER_ACCOUNT_ID,
      forwardingRegions: config.FORWARDING_REGIONS,
      canaryIntervalMinutes: config.CANARY_INTERVAL_MINUTES,
      // The organization's accounts; in each account its enabled regions and forwarding rules.
      responder: targetClients({ accountId: config.RESPONDER_ACCOUNT_ID }, { organizations }),
      clientsFor: (accountId) => targetClients(targetFor(accountId, config).target, { account, events }),
      store: new PipelineHealthStore(documentClient(), config.INCIDENTS_TABLE),
      sns: snsClient(),
      alertTopicArn: config.ALERT_TOPIC_ARN,
      clock: clock(),
      log: logger,
      metrics: (values) => embeddedMetrics(config.STAGE, values, clock().now(), metricsSink()),
    });
  } catch (error) {
    // No metric this run: the silent-forwarders alarm treats missing data as breaching.
    logger.error('Pipeline check failed', { error: error as Error });
    throw error;
  }
};

export const requiredPermissions = [...stepPermissions, ...memberRolePermissions] as const;
