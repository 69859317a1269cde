import { DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import type { TargetClients } from './clients';
import { awsCall } from './errors';

/**
 * CloudTrail trails are regional, and so is every call about one (CloudTrail API Reference):
 * - DescribeTrails in a region returns the trails homed in that region and, with includeShadowTrails
 *   (the default), the multi-region trails homed elsewhere as shadow trails, each with its HomeRegion;
 *   another region's single-region trail never appears. Given names, it matches the region's own
 *   trails only; another region's trail needs its ARN. (DescribeTrails, trailNameList and
 *   includeShadowTrails; the SDKs carry the same text, e.g.
 *   https://docs.rs/aws-sdk-cloudtrail/latest/aws_sdk_cloudtrail/operation/describe_trails/struct.DescribeTrailsInput.html)
 * - GetTrailStatus answers from one region; a shadow trail, or an organization trail seen from a
 *   member account, only by its ARN.
 * - StartLogging "must be called from the Region in which the trail was created" and "cannot be
 *   called on the shadow trails" (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_StartLogging.html).
 * So every region is read, trails are told apart by TrailARN, and status and restarts go to the home region.
 */
export interface TrailLocation {
  name: string;
  /** How GetTrailStatus names it: its ARN (a shadow or an organization trail needs it), else its name. */
  ref: string;
  homeRegion: string;
}

const TRAIL_ARN = /^arn:[^:]+:cloudtrail:([a-z0-9-]+):\d{12}:trail\/(.+)$/;

/**
 * Where a trail named in `region` lives: an ARN names its home region; a name is looked up with
 * DescribeTrails in that region (its own trails and the shadows of multi-region trails). Undefined:
 * no such trail is visible from there.
 */
export async function locateTrail(
  clients: Pick<TargetClients, 'cloudtrail'>,
  region: string,
  nameOrArn: string,
): Promise<TrailLocation | undefined> {
  const arn = TRAIL_ARN.exec(nameOrArn);
  if (arn) return { name: arn[2]!, ref: nameOrArn, homeRegion: arn[1]! };
  const out = await awsCall(`cloudtrail:DescribeTrails ${region}`, () =>
    clients.cloudtrail(region).send(new DescribeTrailsCommand({ includeShadowTrails: true })),
  );
  const named = (out.trailList ?? []).filter((t) => t.Name === nameOrArn);
  // A region's own trail first (names are unique within a region), else a shadow of one homed elsewhere.
  const trail = named.find((t) => t.HomeRegion === region) ?? named[0];
  if (!trail) return undefined;
  return { name: nameOrArn, ref: trail.TrailARN ?? nameOrArn, homeRegion: trail.HomeRegion ?? region };
}
