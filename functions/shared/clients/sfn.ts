import { SFNClient } from '@aws-sdk/client-sfn';
import { inRegion, local, once, RETRY } from './core';

/** Step Functions (StartExecution, SendTaskSuccess / SendTaskFailure). */
export function sfnClient(region?: string): SFNClient {
  const drill = local();
  if (drill?.sfn) return drill.sfn;
  return once(`sfn:${region ?? ''}`, () => new SFNClient({ ...RETRY, ...inRegion(region) }));
}
