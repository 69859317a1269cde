import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ApprovalStore, approvalStorePermissions } from '#shared/approval-store';
import { clock, totpClock } from '#shared/clients';
import { documentClient } from '#shared/clients/dynamodb';
import { respondersDirectory } from '#shared/clients/secrets-manager';
import { sfnClient } from '#shared/clients/sfn';
import { snsClient } from '#shared/clients/sns';
import { runtimeConfig } from '#shared/config';
import { logger } from '#shared/logger';
import { respondersPermissions } from '#shared/responders';
import { notifyPermissions, publish } from '#shared/notify';
import { PasskeyStore, passkeyPermissions } from '#shared/passkeys';
import { enrollmentWeb, handleApprovalRequest, serverError } from './http';
import { handlePasskeyEnrollment } from './passkey-http';

/** GET renders, POST decides (CSRF, Origin, TOTP, two-person rule): see http.ts. */
export const requiredPermissions = [
  ...approvalStorePermissions.decide,
  ...respondersPermissions,
  ...notifyPermissions,
  ...passkeyPermissions,
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
] as const;

export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<APIGatewayProxyStructuredResultV2> => {
  if (context) logger.addContext(context);
  try {
    const config = runtimeConfig();
    const origin = new URL(config.APPROVALS_BASE_URL).origin;
    const passkeys = new PasskeyStore(documentClient(), config.APPROVALS_TABLE);
    // The one-time passkey enrollment links the CLI prints: /passkeys/{token}.
    if ((event.rawPath ?? event.routeKey ?? '').includes('/passkeys/'))
      return await handlePasskeyEnrollment(
        event,
        { passkeys, responders: respondersDirectory(config.RESPONDERS_SECRET_ID), origin, clock: clock(), log: logger },
        enrollmentWeb(origin),
      );
    return await handleApprovalRequest(event, {
      passkeys,
      approvals: new ApprovalStore(documentClient(), config.APPROVALS_TABLE),
      sfn: sfnClient(),
      responders: respondersDirectory(config.RESPONDERS_SECRET_ID),
      origin,
      clock: clock(),
      totpClock: totpClock(),
      log: logger,
      // A lockout is news for the other responders and the escalation contacts: someone may be guessing.
      announceLockout: async (lockout, from) => {
        const message = {
          subject: `[root-responder] Responder locked out of approvals: ${lockout.email}`,
          body: [
            `${lockout.email} made ${lockout.failures} wrong sign-in attempts in 15 minutes (the last from ${from}).`,
            `Their approvals are refused until ${lockout.until}. The other responders can still decide.`,
            'If that was not them, someone holding an approval link is guessing codes.',
            `To end the lockout: npx root-responder responders unlock ${lockout.email} --stage ${config.STAGE}`,
          ].join('\n'),
        };
        const sns = snsClient();
        await Promise.all([config.RESPONDERS_TOPIC_ARN, config.ESCALATION_TOPIC_ARN].map((topic) => publish(sns, topic, message)));
      },
    });
  } catch (error) {
    logger.error('Approval request failed', { error: error as Error });
    return serverError();
  }
};
