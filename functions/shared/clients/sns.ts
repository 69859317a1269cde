import { SNSClient } from '@aws-sdk/client-sns';
import { inRegion, local, once, RETRY } from './core';

/** SNS (the alert, responders and escalation topics). */
export function snsClient(region?: string): SNSClient {
  const drill = local();
  if (drill?.sns) return drill.sns;
  return once(`sns:${region ?? ''}`, () => new SNSClient({ ...RETRY, ...inRegion(region) }));
}
