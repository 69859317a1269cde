import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TargetClients } from '#shared/clients';
import { fixedClock } from '#shared/clock';
import { EvidenceBundle, LocalDirReader, LocalDirWriter, verifyLocalBundle } from '#shared/evidence';
import { knownSources } from '#shared/known-sources';
import { RateLimiters, virtualTimer } from '#shared/rate-limit';
import { collectEvidence } from '#functions/collect-evidence/collect-evidence';
import { verifyIncident } from '#functions/verify-incident/verify-incident';
import { SimulatedAws } from '#drill/simulated-aws';
import { rootEvents, simAccount, world } from '../helpers-sim';
import { executionInput } from '../helpers-state';

const ACCOUNT = '111122223333';

const clientsOf = (aws: SimulatedAws): TargetClients => aws.targetClients({ accountId: ACCOUNT });

describe('collect evidence, then verify before the report', () => {
  it('finds the events CloudTrail delivered after the first collection', async () => {
    const now = Date.parse('2024-03-04T10:30:00Z');
    const timer = virtualTimer(now);
    const events = rootEvents(30, 'us-east-1', Date.parse('2024-03-04T10:20:00Z'));
    const account = simAccount(ACCOUNT, { enabledRegions: ['us-east-1', 'eu-west-1'], events: { 'us-east-1': events } });
    const aws = new SimulatedAws(world([account]), timer);
    const dir = mkdtempSync(join(tmpdir(), 'evidence-'));
    const clock = fixedClock(new Date(now));
    const state = executionInput({ accountId: ACCOUNT, openedAt: '2024-03-04T10:19:00Z' });
    const common = { clients: clientsOf(aws), limiters: new RateLimiters(2, timer), timer, clock, known: knownSources([]) };

    const first = await collectEvidence(state, {
      ...common,
      bundle: new EvidenceBundle(new LocalDirWriter(join(dir, 'evidence'))),
      baseline: { alternateContacts: {}, expectedOrganizationId: null },
    });
    expect(first.review.events).toBe(30);
    expect((await verifyLocalBundle(join(dir, 'evidence'))).ok).toBe(true);

    // A late delivery: StopLogging in eu-west-1 shows up after the first lookup.
    account.events['eu-west-1'] = [
      {
        ...rootEvents(1, 'eu-west-1', Date.parse('2024-03-04T10:21:00Z'))[0]!,
        eventID: 'late-1',
        eventName: 'StopLogging',
        eventSource: 'cloudtrail.amazonaws.com',
        requestParameters: { name: 'trail-eu' },
      },
    ];
    clock.set('2024-03-04T10:40:00Z');
    const check = await verifyIncident(state, {
      ...common,
      firstCollection: new LocalDirReader(join(dir, 'evidence')),
      bundle: new EvidenceBundle(new LocalDirWriter(join(dir, 'verification'))),
    });

    expect(check).toMatchObject({ status: 'done', lateEvents: 1, lateFindings: 1, keys: { lateFindings: 'late-findings.json' } });
    // The findings themselves are in the verification folder, not in the state.
    const lateFindings = JSON.parse(readFileSync(join(dir, 'verification', 'late-findings.json'), 'utf8')) as {
      title: string;
      evidence: string[];
    }[];
    expect(lateFindings.map((f) => f.title)).toEqual([
      'Arrived after the first collection: CloudTrail logging stopped in eu-west-1 (trail-eu)',
    ]);
    expect(lateFindings[0]!.evidence).toEqual(['late-1']);
    expect((await verifyLocalBundle(join(dir, 'verification'))).ok).toBe(true);
  });

  it('without a first collection, says so and skips instead of guessing', async () => {
    const aws = new SimulatedAws(world([simAccount(ACCOUNT)]), virtualTimer());
    const dir = mkdtempSync(join(tmpdir(), 'evidence-'));
    const timer = virtualTimer();
    const check = await verifyIncident(
      { incidentId: 'i', accountId: ACCOUNT },
      {
        clients: clientsOf(aws),
        firstCollection: new LocalDirReader(join(dir, 'missing')),
        bundle: new EvidenceBundle(new LocalDirWriter(join(dir, 'v'))),
        limiters: new RateLimiters(2, timer),
        timer,
        clock: fixedClock('2024-03-04T10:40:00Z'),
        known: knownSources([]),
      },
    );
    expect(check).toMatchObject({ status: 'skipped', lateEvents: 0 });
    expect(aws.calls).toEqual([]);
  });
});
