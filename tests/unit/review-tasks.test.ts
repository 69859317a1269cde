import { SimulatedAws } from '#drill/simulated-aws';
import { virtualTimer } from '#shared/rate-limit';
import { verifyReviewTask } from '#shared/review-tasks';
import { fixture } from '../helpers';
import { simAccount, world } from '../helpers-sim';

/**
 * The review task of a Lambda function root created is verified by lambda:GetFunction: gone, or kept
 * by the responder's explicit decision (the approval's comment); a quota request is not read by API,
 * and the check says so. On the simulated account, whose functions come from its CloudTrail records
 * (scenarios/data/data_exposure_compute_review__written.json, written from the documented shapes).
 */
const ACCOUNT = '123456789012';
const records = fixture<Record<string, unknown>[]>('../../scenarios/data/data_exposure_compute_review__written.json');

describe('review tasks, checked by API', () => {
  const aws = new SimulatedAws(world([simAccount(ACCOUNT, { events: { 'eu-west-1': [records[1]!] } })]), virtualTimer());
  const clients = aws.targetClients({ accountId: ACCOUNT });
  const fn = { kind: 'lambda-function' as const, id: 'nightly-sync', region: 'eu-west-1' };

  it('a function still there is not done, unless the approval says who keeps it', async () => {
    expect(await verifyReviewTask(fn, undefined, clients)).toEqual({
      verified: false,
      reason: 'lambda:GetFunction: nightly-sync still exists in eu-west-1: delete it, or approve again with a comment saying who keeps it',
    });
    expect(await verifyReviewTask(fn, 'Keep: the data team owns it', clients)).toEqual({
      verified: true,
      reason: 'lambda:GetFunction: nightly-sync still exists, kept by the responder\'s decision: "Keep: the data team owns it"',
    });
  });

  it('a function deleted is verified by its absence', async () => {
    expect(await verifyReviewTask({ ...fn, region: 'us-east-1' }, undefined, clients)).toEqual({
      verified: true,
      reason: 'lambda:GetFunction: nightly-sync no longer exists in us-east-1',
    });
  });

  it('a quota request is not read by API, and the check says so', async () => {
    const out = await verifyReviewTask(
      { kind: 'service-quota-request', id: 'ec2/L-417A185B', region: 'us-east-1', requestId: 'a7c1e2d3b4f54a6b8c7d9e0f1a2b3c4d' },
      undefined,
      clients,
    );
    expect(out.verified).toBeNull();
    expect(out.reason).toMatch(/^Not checked by API: the status of quota request a7c1e2d3b4f54a6b8c7d9e0f1a2b3c4d/);
  });
});
