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
import type { TaskOutcome } from '#shared/contracts/task-outcome';
import { fixture } from '../helpers';
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

  describe("the responders' own root work while their console tasks are open", () => {
    // The published Panther "Root Password Changed" record, moved into this account and window.
    const published = fixture('cloudtrail/signin/panther__aws_root_password_changed__t0__root_password_changed.json');
    const passwordUpdated = (id: string, at: string, ip: string) => ({
      ...published,
      eventID: id,
      eventTime: at,
      sourceIPAddress: ip,
      recipientAccountId: ACCOUNT,
      userIdentity: { type: 'Root', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, principalId: ACCOUNT },
    });
    const signIn = (id: string, at: string, ip: string, mfa: 'Yes' | 'No') => ({
      eventVersion: '1.08',
      eventID: id,
      eventTime: at,
      eventSource: 'signin.amazonaws.com',
      eventName: 'ConsoleLogin',
      eventType: 'AwsConsoleSignIn',
      awsRegion: 'us-east-1',
      sourceIPAddress: ip,
      userIdentity: { type: 'Root', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, principalId: ACCOUNT },
      responseElements: { ConsoleLogin: 'Success' },
      additionalEventData: { MFAUsed: mfa },
      recipientAccountId: ACCOUNT,
    });

    async function verifyWith(humanTasks: TaskOutcome[]) {
      const now = Date.parse('2024-03-04T10:30:00Z');
      const timer = virtualTimer(now);
      const account = simAccount(ACCOUNT, {
        enabledRegions: ['us-east-1'],
        events: { 'us-east-1': rootEvents(2, 'us-east-1', Date.parse('2024-03-04T10:20:00Z')) },
      });
      const aws = new SimulatedAws(world([account]), timer);
      const dir = mkdtempSync(join(tmpdir(), 'evidence-'));
      const clock = fixedClock(new Date(now));
      const state = executionInput({ accountId: ACCOUNT, openedAt: '2024-03-04T10:19:00Z' });
      const common = {
        clients: clientsOf(aws),
        limiters: new RateLimiters(2, timer),
        timer,
        clock,
        known: knownSources(['203.0.113.0/24']),
      };
      await collectEvidence(state, {
        ...common,
        bundle: new EvidenceBundle(new LocalDirWriter(join(dir, 'evidence'))),
        baseline: { alternateContacts: {}, expectedOrganizationId: null },
      });
      // While the tasks are open: the responder signs in with MFA and changes the password from the office;
      // the attacker changes it too, from elsewhere.
      account.events['us-east-1']!.push(
        signIn('ours-sign-in', '2024-03-04T10:34:00Z', '203.0.113.10', 'Yes'),
        passwordUpdated('ours-password', '2024-03-04T10:35:00Z', '203.0.113.10'),
        passwordUpdated('theirs-password', '2024-03-04T10:35:30Z', '111.111.111.111'),
      );
      clock.set('2024-03-04T10:40:00Z');
      const check = await verifyIncident(
        { incidentId: state.incidentId, accountId: ACCOUNT, humanTasks },
        {
          ...common,
          firstCollection: new LocalDirReader(join(dir, 'evidence')),
          bundle: new EvidenceBundle(new LocalDirWriter(join(dir, 'verification'))),
        },
      );
      const read = <T>(file: string) => JSON.parse(readFileSync(join(dir, 'verification', file), 'utf8')) as T;
      return {
        check,
        late: read<{ title: string; detail: string; evidence: string[] }[]>('late-findings.json'),
        ours: read<{ eventId: string; taskId: string; status: string; reason: string }[]>('responder-activity.json'),
      };
    }
    const approved: TaskOutcome = {
      taskId: 'change-root-password',
      kind: 'console',
      status: 'done',
      decision: { decidedBy: 'alice@responders.example', decidedAt: '2024-03-04T10:36:00Z' },
      action: { status: 'skipped', detail: 'console task' },
      verification: { verified: true },
    };

    it("approved task: its sign-in and PasswordUpdated are responder activity; the attacker's PasswordUpdated stays a finding", async () => {
      const { check, late, ours } = await verifyWith([approved]);
      expect(ours.map((o) => [o.eventId, o.taskId, o.status])).toEqual([
        ['ours-sign-in', 'change-root-password', 'confirmed'],
        ['ours-password', 'change-root-password', 'confirmed'],
      ]);
      expect(late.map((f) => [f.title, f.evidence])).toEqual([
        [
          'Arrived after the first collection: Root password changed from 111.111.111.111, outside the known networks, at 2024-03-04T10:35:30Z',
          ['theirs-password'],
        ],
      ]);
      expect(check).toMatchObject({ lateEvents: 3, lateFindings: 1, responderActivity: { confirmed: 2, raised: 0 } });
    });

    it('rejected task: the same events are raised as findings after all, saying why', async () => {
      const { check, late, ours } = await verifyWith([
        { taskId: 'change-root-password', kind: 'console', status: 'rejected', rejection: { Error: 'ApprovalRejectedError', Cause: 'no' } },
      ]);
      expect(ours.every((o) => o.status === 'raised')).toBe(true);
      const raised = late.find((f) => f.evidence.includes('ours-password'))!;
      expect(raised.title).toBe(
        'Arrived after the first collection: Root password changed from 203.0.113.10 (a known network) at 2024-03-04T10:35:00Z',
      );
      expect(raised.detail).toContain('but the task was rejected: raised as a finding');
      expect(check).toMatchObject({ lateFindings: 3, responderActivity: { confirmed: 0, raised: 2 } });
    });

    it('an event after the task was approved, or with no task open, is not explained', async () => {
      const late = { ...approved, decision: { ...approved.decision, decidedAt: '2024-03-04T10:33:00Z' } };
      const { check } = await verifyWith([late]);
      expect(check).toMatchObject({ lateFindings: 3, responderActivity: { confirmed: 0, raised: 0 } });
      expect((await verifyWith([])).check).toMatchObject({ lateFindings: 3, responderActivity: { confirmed: 0, raised: 0 } });
    });
  });
});

describe("a second incident: the previous incident's confirmed responder activity is not the attacker's", () => {
  // The previous incident's responders signed in with MFA from the office two days ago: in this incident's 7 days of context.
  const officeSignIn = {
    eventVersion: '1.08',
    eventID: 'drill-change-root-password-1',
    eventTime: '2024-03-02T09:00:00Z',
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    eventType: 'AwsConsoleSignIn',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.10',
    userIdentity: { type: 'Root', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, principalId: ACCOUNT },
    responseElements: { ConsoleLogin: 'Success' },
    additionalEventData: { MFAUsed: 'Yes' },
    recipientAccountId: ACCOUNT,
  };
  async function collectWith(previous: 'confirmed' | 'unreadable') {
    const now = Date.parse('2024-03-04T10:30:00Z');
    const timer = virtualTimer(now);
    const aws = new SimulatedAws(world([simAccount(ACCOUNT, { events: { 'us-east-1': [officeSignIn] } })]), timer);
    const dir = mkdtempSync(join(tmpdir(), 'evidence-'));
    if (previous === 'confirmed')
      await new LocalDirWriter(join(dir, 'previous')).write(
        'responder-activity.json',
        Buffer.from(JSON.stringify([{ eventId: officeSignIn.eventID, taskId: 'change-root-password', status: 'confirmed' }])),
      );
    const out = await collectEvidence(
      executionInput({ accountId: ACCOUNT, openedAt: '2024-03-04T10:19:00Z', previousIncidentId: 'previous-incident' }),
      {
        clients: clientsOf(aws),
        limiters: new RateLimiters(2, timer),
        timer,
        clock: fixedClock(new Date(now)),
        known: knownSources(['203.0.113.0/24']),
        bundle: new EvidenceBundle(new LocalDirWriter(join(dir, 'evidence'))),
        baseline: { alternateContacts: {}, expectedOrganizationId: null },
        previousVerification: new LocalDirReader(join(dir, 'previous')),
      },
    );
    const { findings } = JSON.parse(readFileSync(join(dir, 'evidence', 'findings.json'), 'utf8')) as { findings: { evidence: string[] }[] };
    return { out, fromThatSignIn: findings.filter((f) => f.evidence.includes(officeSignIn.eventID)) };
  }

  it('excuses the events its verification confirmed', async () => {
    const { out, fromThatSignIn } = await collectWith('confirmed');
    expect(fromThatSignIn).toEqual([]);
    expect(out.accountState.unavailable).toEqual([]);
  });

  it('cannot read it: nothing is excused, and the evidence says what was not read', async () => {
    const { out, fromThatSignIn } = await collectWith('unreadable');
    expect(fromThatSignIn).toHaveLength(1);
    expect(out.accountState.unavailable.map((u) => u.what)).toEqual([
      "the previous incident's responder activity (its responders' root work is reported as findings)",
    ]);
  });
});
