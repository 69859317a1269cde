import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { ApprovalStore, approvalStorePermissions } from '#shared/approval-store';
import { documentClient } from '#shared/clients';
import { runtimeConfig } from '#shared/config';
import { describeError } from '#shared/errors';
import { escapeHtml } from '#shared/html';
import { logger } from '#shared/logger';

/**
 * GET /approvals/{id} renders the task and never decides anything (mail scanners open links).
 * POST /approvals/{id} will decide, once it has its CSRF token, Origin check and second factor
 * (human-tasks issue); until then it answers 501 and changes nothing.
 */
/** What this handler calls today: it renders, it does not decide. */
export const requiredPermissions = [...approvalStorePermissions.read] as const;

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

function page(status: number, title: string, body: string): APIGatewayProxyResultV2 {
  return {
    statusCode: status,
    headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head><body style="font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem">${body}</body></html>`,
  };
}

export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> => {
  const id = event.pathParameters?.['id'] ?? '';
  const method = event.requestContext?.http?.method ?? 'GET';
  if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return page(404, 'Not found', '<h1>No such approval</h1><p>The link is wrong or has expired.</p>');
  try {
    if (method === 'GET') {
      const record = await new ApprovalStore(documentClient(), runtimeConfig().APPROVALS_TABLE).get(id);
      if (!record) return page(404, 'Not found', '<h1>No such approval</h1><p>The link is wrong or has expired.</p>');
      logger.info('Approval page viewed', { incidentId: record.incidentId, taskId: record.taskId });
      return page(
        200,
        record.title,
        `<h1>${escapeHtml(record.title)}</h1><p>Incident <code>${escapeHtml(record.incidentId)}</code>, account <code>${escapeHtml(record.accountId)}</code>.</p>` +
          `<p>Status: <strong>${escapeHtml(record.status)}</strong>; this link expires at ${escapeHtml(record.expiresAt)}.</p>` +
          '<p><strong>Deciding from this page is not built yet.</strong> Until it is, the task stays open and the workflow reminds, then escalates.</p>',
      );
    }
    if (method === 'POST') {
      return {
        statusCode: 501,
        headers: { ...SECURITY_HEADERS, 'content-type': 'application/json' },
        body: JSON.stringify({ error: 'not-implemented', detail: 'Decisions over HTTP need CSRF, Origin and second-factor checks; not built yet. Nothing was changed.' }),
      };
    }
    return page(405, 'Method not allowed', '<h1>Method not allowed</h1>');
  } catch (error) {
    logger.error('Approval request failed', { error: describeError(error) });
    return page(500, 'Error', '<h1>Something went wrong</h1><p>Nothing was decided. Try again, or tell the other responders.</p>');
  }
};
