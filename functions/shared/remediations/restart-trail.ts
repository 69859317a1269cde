import { GetTrailStatusCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { awsCall } from '../errors';
import { locateTrail } from '../trails';
import { defineRemediation, type RemediationMeta } from './types';

/** A trail root stopped, started again in its home region (StartLogging never works on a shadow trail). */
export const restartTrailMeta: RemediationMeta<'restart-trail'> = {
  action: 'restart-trail',
  runsIn: 'target-account',
  permissions: {
    run: ['cloudtrail:DescribeTrails', 'cloudtrail:StartLogging'],
    verify: ['cloudtrail:DescribeTrails', 'cloudtrail:GetTrailStatus'],
  },
  reversible: true,
  approvals: 1,
};

export const restartTrail = /* @__PURE__ */ defineRemediation(restartTrailMeta, {
  async run({ clients, target, region }) {
    const trail = await locateTrail(clients, region, target);
    if (!trail)
      return {
        status: 'failed',
        detail: `No trail ${target} in ${region} (DescribeTrails lists its own and shadow trails): nothing was restarted.`,
      };
    await awsCall('cloudtrail:StartLogging', () =>
      clients.cloudtrail(trail.homeRegion).send(new StartLoggingCommand({ Name: trail.name })),
    );
    return {
      status: 'done',
      detail: `StartLogging on ${trail.name} in its home region ${trail.homeRegion}.`,
      undo: [`aws cloudtrail stop-logging --name ${trail.name} --region ${trail.homeRegion} (nobody should want to)`],
    };
  },
  async verify({ clients, target, region }) {
    // The status as the trail's home region has it (a shadow trail answers only by its ARN).
    const trail = await locateTrail(clients, region, target);
    if (!trail) return { verified: false, reason: `No trail ${target} in ${region} any more` };
    const out = await awsCall('cloudtrail:GetTrailStatus', () =>
      clients.cloudtrail(trail.homeRegion).send(new GetTrailStatusCommand({ Name: trail.ref })),
    );
    return out.IsLogging
      ? { verified: true, reason: `Trail ${target} is logging` }
      : { verified: false, reason: `Trail ${target} is still not logging` };
  },
  undoSteps: ({ target, region }) => [`aws cloudtrail stop-logging --name ${target} --region ${region} (nobody should want to)`],
});
