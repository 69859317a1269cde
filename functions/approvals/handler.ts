import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ApprovalStore, approvalStorePermissions } from '#shared/approval-store';
import { clock, totpClock } from '#shared/clients';
import { documentClient } from '#shared/clients/dynamodb';
import { respondersDirectory } from '#shared/clients/secrets-manager';
import { sfnClient } from '#shared/clients/sfn';
import { runtimeConfig } from '#shared/config';
import { logger } from '#shared/logger';
import { respondersPermissions } from '#shared/responders';
import { handleApprovalRequest } from './http';

/** GET renders, POST decides (CSRF, Origin, TOTP, two-person rule): see http.ts. */
export const requiredPermissions = [
  ...approvalStorePermissions.decide,
  ...respondersPermissions,
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
] as const;

export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyStructuredResultV2> => {
  if (context) logger.addContext(context);
  try {
    const config = runtimeConfig();
    return await handleApprovalRequest(event, {
      approvals: new ApprovalStore(documentClient(), config.APPROVALS_TABLE),
      sfn: sfnClient(),
      responders: respondersDirectory(config.RESPONDERS_SECRET_ID),
      origin: new URL(config.APPROVALS_BASE_URL).origin,
      clock: clock(),
      totpClock: totpClock(),
      log: logger,
    });
  } catch (error) {
    logger.error('Approval request failed', { error: error as Error });
    return {
      statusCode: 500,
      headers: { 'cache-control': 'no-store', 'content-type': 'text/html; charset=utf-8' },
      body: '<!doctype html><h1>Something went wrong</h1><p>Nothing was decided. Try again, or tell the other responders.</p>',
    };
  }
};
