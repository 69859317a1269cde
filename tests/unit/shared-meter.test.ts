import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { RateLimiters, virtualTimer } from '#shared/rate-limit';
import { SharedMeter } from '#shared/shared-meter';
import { reviewRegions } from '#shared/cloudtrail-review';
import { SimulatedAws } from '#drill/simulated-aws';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { rootEvents, simAccount, world } from '../helpers-sim';

/**
 * Two collectors (two Lambda invocations: two meter objects) review the same account and regions at
 * once. Through the shared meter they never exceed 2 calls/s together; with per-container limiters
 * alone they would (the simulated account throttles the excess).
 */
const ACCOUNT = '111122223333';
const REGIONS = ['us-east-1', 'eu-west-1'];
const query = () => [
  {
    label: 'root',
    attribute: { AttributeKey: 'Username' as const, AttributeValue: 'root' },
    startTime: new Date('2024-02-26T00:00:00Z'),
    endTime: new Date('2024-03-05T00:00:00Z'),
  },
];

function peak(starts: number[]): number {
  return Math.max(...starts.map((t) => starts.filter((u) => u >= t && u < t + 1000).length));
}

function setup() {
  const timer = virtualTimer(Date.parse('2024-03-05T00:00:00Z'));
  const aws = new SimulatedAws(
    world([simAccount(ACCOUNT, { enabledRegions: REGIONS, events: Object.fromEntries(REGIONS.map((r) => [r, rootEvents(300, r)])) })]),
    timer,
  );
  return { timer, aws, client: (region: string) => aws.client({ region }) as unknown as CloudTrailClient };
}

describe('the shared CloudTrail meter', () => {
  it('two concurrent collectors together stay at 2 calls/s per region and get every page', async () => {
    const { timer, aws, client } = setup();
    const table = new SimulatedDynamoDb();
    const collector = () =>
      reviewRegions(REGIONS, query, {
        cloudtrail: client,
        limiters: new SharedMeter(table as never, 'incidents', 2, timer),
        timer,
        accountId: ACCOUNT,
      });
    const [a, b] = await Promise.all([collector(), collector()]);
    expect(a.events).toHaveLength(600);
    expect(b.events).toHaveLength(600);
    for (const region of REGIONS)
      expect(
        peak(aws.calls.filter((c) => c.region === region && c.command === 'LookupEventsCommand').map((c) => c.at)),
      ).toBeLessThanOrEqual(2);
    expect(aws.calls.filter((c) => c.error === 'ThrottlingException')).toEqual([]);
    // 2 collectors x 6 pages per region at 2/s: the second collector waits its turn (about 6 s per region).
    expect(timer.elapsed).toBeGreaterThanOrEqual(5500);
  });

  it('without it, two containers each at 2 calls/s get throttled', async () => {
    const { timer, aws, client } = setup();
    const collector = () =>
      reviewRegions(REGIONS, query, { cloudtrail: client, limiters: new RateLimiters(2, timer), timer, accountId: ACCOUNT });
    await Promise.all([collector(), collector()]);
    expect(aws.calls.filter((c) => c.error === 'ThrottlingException').length).toBeGreaterThan(0);
  });
});
