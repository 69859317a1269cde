import type { Context } from 'aws-lambda';
import { s3Client } from '#shared/clients/s3';
import { InvalidEventError } from '#shared/errors';
import { logger } from '#shared/logger';
import { BaselineRequestSchema, writeBaseline } from './write-baseline';
export { requiredPermissions } from './write-baseline';

/**
 * CloudFormation's request for Custom::BaselineConfig. The response goes to the presigned URL with
 * an empty Content-Type, as that URL's signature expects.
 */
export async function handler(event: unknown, context?: Context) {
  if (context) logger.addContext(context);
  const parsed = BaselineRequestSchema.safeParse(event);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 20).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    logger.error('Not a CloudFormation custom resource request', { issues });
    throw new InvalidEventError(`write-baseline: not a custom resource request: ${issues.join('; ')}`, issues);
  }
  const response = await writeBaseline(parsed.data, {
    s3: s3Client(),
    respond: async (url, body) => {
      const answer = await fetch(url, { method: 'PUT', body, headers: { 'content-type': '' } });
      if (!answer.ok) throw new Error(`CloudFormation's response URL answered HTTP ${answer.status}`);
    },
  });
  logger.info('Baseline request answered', { requestType: parsed.data.RequestType, status: response.Status, reason: response.Reason });
  return response;
}
