import { expect } from '@jest/globals';
import { DescribeTrailsCommand, GetTrailStatusCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '#shared/clock';
import { virtualTimer, RateLimiters } from '#shared/rate-limit';
import type { ActionResult } from '#shared/contracts/action-result';
import type { TaskItemState } from '#shared/contracts/task-item';
import { readAccountState, readTrails } from '#functions/collect-evidence/account-state';
import { runApprovedAction } from '#functions/run-approved-action/run-approved-action';
import { verifyHumanTask } from '#functions/verify-human-task/verify-human-task';
import { type SimAccount, SimulatedAws } from '#drill/simulated-aws';
import { simAccount, world } from '../helpers-sim';
import { sdkTargetClients } from '../helpers-mock';

/**
 * Trails are regional: DescribeTrails in a region lists the trails homed there and the multi-region
 * trails homed elsewhere (shadow trails, with their HomeRegion), never another region's single-region
 * trail; GetTrailStatus and StartLogging act in the trail's home region.
 */
const ACCOUNT = '210987654321';
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const trails: SimAccount['trails'] = [
  { Name: 'org-trail', HomeRegion: 'us-east-1', IsMultiRegionTrail: true, IsLogging: true },
  { Name: 'acme-cloudtrail-eu-west-1', HomeRegion: 'eu-west-1', IsMultiRegionTrail: false, IsLogging: false },
];
const clock = fixedClock('2024-03-04T11:00:00Z');

function sim(overrides: Partial<SimAccount> = {}) {
  const account = simAccount(ACCOUNT, { enabledRegions: REGIONS, trails: structuredClone(trails), ...overrides });
  const aws = new SimulatedAws(world([account]));
  return { aws, account, clients: aws.targetClients({ accountId: ACCOUNT }) };
}

describe('the simulated CloudTrail answers per region, as CloudTrail does', () => {
  it("DescribeTrails: the region's own trails and the shadows of multi-region trails, never another region's single-region trail", async () => {
    const { clients } = sim();
    const names = async (region: string, input: ConstructorParameters<typeof DescribeTrailsCommand>[0] = {}) =>
      ((await clients.cloudtrail(region).send(new DescribeTrailsCommand(input))).trailList ?? []).map((t) => `${t.Name} ${t.HomeRegion}`);
    expect(await names('us-east-1')).toEqual(['org-trail us-east-1']);
    expect(await names('eu-west-1')).toEqual(['org-trail us-east-1', 'acme-cloudtrail-eu-west-1 eu-west-1']);
    expect(await names('eu-west-1', { includeShadowTrails: false })).toEqual(['acme-cloudtrail-eu-west-1 eu-west-1']);
    expect(await names('ap-southeast-2')).toEqual(['org-trail us-east-1']);
    // By name: only the region's own trails; another region's trail by its ARN.
    expect(await names('us-east-1', { trailNameList: ['acme-cloudtrail-eu-west-1'] })).toEqual([]);
    expect(
      await names('us-east-1', { trailNameList: [`arn:aws:cloudtrail:eu-west-1:${ACCOUNT}:trail/acme-cloudtrail-eu-west-1`] }),
    ).toEqual(['acme-cloudtrail-eu-west-1 eu-west-1']);
  });

  it('GetTrailStatus: a shadow only by its ARN; StartLogging only in the home region', async () => {
    const { clients, account } = sim();
    const orgArn = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/org-trail`;
    await expect(clients.cloudtrail('eu-west-1').send(new GetTrailStatusCommand({ Name: 'org-trail' }))).rejects.toMatchObject({
      name: 'TrailNotFoundException',
      $fault: 'client',
    });
    await expect(clients.cloudtrail('eu-west-1').send(new GetTrailStatusCommand({ Name: orgArn }))).resolves.toMatchObject({
      IsLogging: true,
    });
    await expect(
      clients.cloudtrail('us-east-1').send(new GetTrailStatusCommand({ Name: 'acme-cloudtrail-eu-west-1' })),
    ).rejects.toMatchObject({ name: 'TrailNotFoundException' });
    account.trails[0]!.IsLogging = false;
    await expect(clients.cloudtrail('eu-west-1').send(new StartLoggingCommand({ Name: orgArn }))).rejects.toMatchObject({
      name: 'InvalidHomeRegionException',
    });
    await expect(clients.cloudtrail('eu-west-1').send(new StartLoggingCommand({ Name: 'org-trail' }))).rejects.toMatchObject({
      name: 'TrailNotFoundException',
    });
    await clients.cloudtrail('us-east-1').send(new StartLoggingCommand({ Name: 'org-trail' }));
    expect(account.trails[0]!.IsLogging).toBe(true);
  });
});

describe('evidence reads the trails of every enabled region', () => {
  it('finds the stopped single-region trail in eu-west-1, once each trail, its status read in its home region', async () => {
    const { aws, clients } = sim();
    const state = await readAccountState(clients);
    expect(state.trails).toEqual([
      { name: 'org-trail', homeRegion: 'us-east-1', multiRegion: true, logging: true },
      { name: 'acme-cloudtrail-eu-west-1', homeRegion: 'eu-west-1', multiRegion: false, logging: false },
    ]);
    expect(state.unavailable).toEqual([]);
    const status = aws.calls
      .filter((c) => c.command === 'GetTrailStatusCommand')
      .map((c) => `${c.region} ${(c.input as { Name: string }).Name}`);
    expect(status.sort()).toEqual([
      `eu-west-1 arn:aws:cloudtrail:eu-west-1:${ACCOUNT}:trail/acme-cloudtrail-eu-west-1`,
      `us-east-1 arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/org-trail`,
    ]);
    expect(
      aws.calls
        .filter((c) => c.command === 'DescribeTrailsCommand')
        .map((c) => c.region)
        .sort(),
    ).toEqual([...REGIONS].sort());
  });

  it('with the SDK: deduplicates by TrailARN, and a region that refuses DescribeTrails is recorded, the others kept', async () => {
    const clients = sdkTargetClients();
    const orgTrail = {
      Name: 'org-trail',
      HomeRegion: 'us-east-1',
      IsMultiRegionTrail: true,
      TrailARN: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/org-trail`,
    };
    const euTrail = {
      Name: 'eu',
      HomeRegion: 'eu-west-1',
      IsMultiRegionTrail: false,
      TrailARN: `arn:aws:cloudtrail:eu-west-1:${ACCOUNT}:trail/eu`,
    };
    const us = mockClient(clients.cloudtrail('us-east-1'));
    const eu = mockClient(clients.cloudtrail('eu-west-1'));
    const ap = mockClient(clients.cloudtrail('ap-southeast-2'));
    us.on(DescribeTrailsCommand)
      .resolves({ trailList: [orgTrail] })
      .on(GetTrailStatusCommand, { Name: orgTrail.TrailARN })
      .resolves({ IsLogging: true });
    eu.on(DescribeTrailsCommand)
      .resolves({ trailList: [orgTrail, euTrail] })
      .on(GetTrailStatusCommand, { Name: euTrail.TrailARN })
      .resolves({ IsLogging: false });
    const denied = Object.assign(new Error('explicit deny in a service control policy'), {
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
    });
    ap.on(DescribeTrailsCommand).rejects(denied);
    const out = await readTrails(clients, REGIONS);
    expect(out.trails).toEqual([
      { name: 'org-trail', homeRegion: 'us-east-1', multiRegion: true, logging: true },
      { name: 'eu', homeRegion: 'eu-west-1', multiRegion: false, logging: false },
    ]);
    expect(out.unavailable).toEqual([
      {
        what: 'CloudTrail trails in ap-southeast-2',
        error: expect.stringMatching(/^cloudtrail:DescribeTrails ap-southeast-2 was refused/),
      },
    ]);
    expect(us).toHaveReceivedCommandTimes(GetTrailStatusCommand, 1);
    expect(eu).toHaveReceivedCommandTimes(GetTrailStatusCommand, 1);
  });
});

describe('restart-trail acts in the trail’s home region', () => {
  const item = (region: string, action?: ActionResult): TaskItemState => ({
    Payload: {
      input: {
        incidentId: 'i',
        accountId: ACCOUNT,
        severity: 'critical',
        task: { id: 'restart-trail-org-trail', kind: 'remediation', remediation: { action: 'restart-trail', target: 'org-trail', region } },
        waitSeconds: 60,
        reminders: 0,
        maxReminders: 1,
      },
    },
    ...(action ? { action: { Payload: action } } : {}),
  });

  it('a multi-region trail named from another region: StartLogging in its home region, then verified there', async () => {
    const { aws, account, clients } = sim({
      trails: [{ Name: 'org-trail', HomeRegion: 'us-east-1', IsMultiRegionTrail: true, IsLogging: false }],
    });
    const out = await runApprovedAction(item('eu-west-1'), {
      clients,
      responder: clients,
      member: false,
      clock,
      baseline: { alternateContacts: {} },
      limiters: new RateLimiters(2, virtualTimer()),
      taskDetails: (id: string) => Promise.resolve({ id, kind: 'remediation' as const, title: 'T', why: [], steps: [], verification: 'v' }),
    });
    expect(out).toMatchObject({ status: 'done' });
    expect(account.trails[0]!.IsLogging).toBe(true);
    expect(aws.calls.filter((c) => c.command === 'StartLoggingCommand').map((c) => c.region)).toEqual(['us-east-1']);
    const verified = await verifyHumanTask(item('eu-west-1', out), {
      clients,
      clock,
      limiters: new RateLimiters(2, virtualTimer()),
      baseline: { alternateContacts: {}, expectedOrganizationId: null },
      taskDetails: (id: string) => Promise.resolve({ id, kind: 'remediation' as const, title: 'T', why: [], steps: [], verification: 'v' }),
    });
    expect(verified).toMatchObject({ verified: true, reason: 'Trail org-trail is logging' });
  });

  it('a trail no region shows is a failed action that says so, and nothing is started', async () => {
    const { aws, clients } = sim();
    const out = await runApprovedAction(
      {
        ...item('eu-west-1'),
        Payload: {
          input: {
            ...item('eu-west-1').Payload.input,
            task: {
              ...item('eu-west-1').Payload.input.task,
              remediation: { action: 'restart-trail', target: 'gone-trail', region: 'eu-west-1' },
            },
          },
        },
      },
      {
        clients,
        responder: clients,
        member: false,
        clock,
        baseline: { alternateContacts: {} },
        limiters: new RateLimiters(2, virtualTimer()),
        taskDetails: (id: string) =>
          Promise.resolve({ id, kind: 'remediation' as const, title: 'T', why: [], steps: [], verification: 'v' }),
      },
    );
    expect(out).toMatchObject({
      status: 'failed',
      detail: 'No trail gone-trail in eu-west-1 (DescribeTrails lists its own and shadow trails): nothing was restarted.',
    });
    expect(aws.calls.filter((c) => c.command === 'StartLoggingCommand')).toEqual([]);
  });
});
