import { expect } from '@jest/globals';
import { ApprovalStore, newApprovalId } from '#shared/approval-store';
import { IncidentStore } from '#shared/incident-store';
import { OwnSessionStore } from '#shared/own-session-store';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import type { IncidentEvent } from '#shared/schemas';
import type { ExecutionInput } from '#shared/contracts/execution-input';
import { SharedMeter } from '#shared/shared-meter';
import { describeMoto, itKeepsTheManifestHonest, MotoAws, useMoto, watchSent } from './moto';
import { workflowState } from './states';

/**
 * The incidents and approvals tables on moto's DynamoDB, created with serverless.yml's key schema:
 * conditional writes and transactions decide races as DynamoDB decides them (a cancelled
 * transaction's reasons, ConditionalCheckFailedException), and reads follow pages past 1 MB.
 */
describeMoto('contract: incident and approval stores', () => {
  const moto = useMoto();
  let incidents: IncidentStore;
  let ownSessions: OwnSessionStore;
  let pipeline: PipelineHealthStore;
  let approvals: ApprovalStore;
  let tables: { incidents: string; approvals: string };

  beforeEach(async () => {
    await moto.reset();
    tables = await moto.aws.createTables();
    incidents = new IncidentStore(moto.aws.documentClient(), tables.incidents);
    ownSessions = new OwnSessionStore(moto.aws.documentClient(), tables.incidents);
    pipeline = new PipelineHealthStore(moto.aws.documentClient(), tables.incidents);
    approvals = new ApprovalStore(moto.aws.documentClient(), tables.approvals);
  });

  const input = (accountId: string, incidentId: string): ExecutionInput => {
    const { incidentId: _, ...rest } = workflowState(accountId);
    return { ...(rest as Omit<ExecutionInput, 'incidentId'>), incidentId };
  };
  const event = (key: string, size = 0): IncidentEvent => ({
    key,
    eventId: key,
    eventName: `ConsoleLogin${'x'.repeat(size)}`,
    eventTime: '2024-03-04T10:00:00Z',
    severity: 'critical',
    startsIncident: true,
    sourceIPAddress: '198.51.100.7',
    receivedAt: '2024-03-04T10:03:00Z',
  });

  it('one open incident per account: racing opens agree (a cancelled transaction is "attached"), a redelivery is a duplicate', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => incidents.openOrAttach(input('111122223333', `inc-${i}`), event(`e-${i}`))),
    );
    const opened = results.filter((r) => r.outcome === 'opened');
    expect(opened).toHaveLength(1);
    const winner = opened[0]!.marker.incidentId;
    expect(results.filter((r) => r.outcome === 'attached').every((r) => r.marker.incidentId === winner)).toBe(true);
    expect(await incidents.attach(winner, event('e-1'))).toBe(false);
    expect((await incidents.events(winner)).map((e) => e.key).sort()).toEqual(['e-0', 'e-1', 'e-2', 'e-3', 'e-4']);
    expect(await incidents.status(winner)).toBe('open');
  });

  it('progress is recorded on the open marker only; closing twice is harmless; the next event opens a new incident', async () => {
    await incidents.openOrAttach(input('111122223333', 'inc-a'), event('a'));
    await incidents.recordProgress('111122223333', 'inc-a', {
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:sm:inc-a',
      alertedAt: '2024-03-04T10:04:00Z',
    });
    expect(await incidents.openIncident('111122223333')).toMatchObject({
      incidentId: 'inc-a',
      executionArn: expect.stringContaining(':inc-a'),
      alertedAt: '2024-03-04T10:04:00Z',
    });
    await incidents.recordProgress('111122223333', 'inc-other', { alertedAt: 'never' }); // condition fails: not that incident
    expect((await incidents.openIncident('111122223333'))!.alertedAt).toBe('2024-03-04T10:04:00Z');
    expect(await incidents.close('111122223333', 'inc-a', 'needs-attention', '2024-03-04T12:00:00Z', { openItems: ['x: overdue'] })).toBe(
      true,
    );
    expect(await incidents.close('111122223333', 'inc-a', 'failed', '2024-03-04T12:00:01Z')).toBe(false); // already ended
    expect(await incidents.openIncident('111122223333')).toBeUndefined();
    expect(await incidents.meta('inc-a')).toMatchObject({
      status: 'needs-attention',
      closedAt: '2024-03-04T12:00:00Z',
      openItems: ['x: overdue'],
    });
    const next = await incidents.openOrAttach(input('111122223333', 'inc-b'), event('b'));
    expect(next).toMatchObject({ outcome: 'opened', marker: { executionInput: { previousIncidentId: 'inc-a' } } });
    // A person closes the needs-attention one (from that status); list reads every incident (a Scan, all pages).
    expect(
      await incidents.close(
        '111122223333',
        'inc-a',
        'resolved',
        '2024-03-05T09:00:00Z',
        { closedBy: 'person: bob', reason: 'done' },
        'needs-attention',
      ),
    ).toBe(true);
    expect(await incidents.openIncident('111122223333')).toMatchObject({ incidentId: 'inc-b' }); // inc-b keeps the account
    expect((await incidents.list()).map((m) => [m.incidentId, m.status, m.previousIncidentId ?? null]).sort()).toEqual([
      ['inc-a', 'resolved', null],
      ['inc-b', 'open', 'inc-a'],
    ]);
  });

  it("an incident's events past DynamoDB's 1 MB page: every page read", async () => {
    await incidents.openOrAttach(input('111122223333', 'inc-big'), event('first'));
    for (let i = 0; i < 280; i += 20)
      await Promise.all(Array.from({ length: 20 }, (_, j) => incidents.attach('inc-big', event(`burst-${i + j}`, 4000))));
    const sentNow = watchSent();
    const events = await incidents.events('inc-big');
    expect(events).toHaveLength(281);
    const queries = sentNow('QueryCommand');
    expect(queries.length).toBeGreaterThanOrEqual(2);
    expect(queries[0]!.output!['LastEvaluatedKey']).toBeDefined();
    expect(queries[1]!.input['ExclusiveStartKey']).toEqual(queries[0]!.output!['LastEvaluatedKey']);
  });

  it('own AssumeRoot sessions and canary arrivals', async () => {
    await ownSessions.recordOwnSession('210987654321', 'ASIAOWNSESSION000001', new Date('2024-03-04T10:15:00Z'));
    expect(await ownSessions.isOwnSession('210987654321', 'ASIAOWNSESSION000001')).toBe(true);
    expect(await ownSessions.isOwnSession('210987654321', 'ASIASOMEONEELSE00001')).toBe(false);
    await pipeline.recordCanary('210987654321', 'eu-west-1', new Date('2024-03-04T10:00:00Z'));
    await pipeline.recordCanary('210987654321', 'eu-west-1', new Date('2024-03-04T10:10:00Z'));
    expect(await pipeline.canaryArrivals()).toEqual([
      { accountId: '210987654321', region: 'eu-west-1', receivedAt: '2024-03-04T10:10:00.000Z' },
    ]);
    await pipeline.savePipelineHealth({ firstCheckAt: '2024-03-04T09:00:00.000Z', digest: 'abc' });
    expect(await pipeline.pipelineHealth()).toEqual({ firstCheckAt: '2024-03-04T09:00:00.000Z', digest: 'abc' });
  });

  it('approvals: created once, ten racing decisions, exactly one wins; two-person quorum; a TOTP step works once', async () => {
    const id = newApprovalId();
    const record = {
      incidentId: 'inc',
      accountId: '111122223333',
      taskId: 't',
      taskKind: 'console',
      title: 'T',
      token: 'tok',
      createdAt: '2024-03-04T10:00:00Z',
      expiresAt: '2024-03-04T11:00:00Z',
    };
    await approvals.create(id, record);
    await expect(approvals.create(id, record)).rejects.toMatchObject({
      name: 'ApprovalStoreError',
      message: expect.stringContaining('ConditionalCheckFailedException'),
    });
    const now = new Date('2024-03-04T10:30:00Z');
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => approvals.decide(id, 'approved', { decidedBy: `r${i}@example.com`, via: 'test' }, now)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(new Set(results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).name] : [])))).toEqual(
      new Set(['ApprovalAlreadyDecidedError']),
    );

    const two = newApprovalId();
    await approvals.create(two, { ...record, requiredApprovals: 2 });
    expect((await approvals.decide(two, 'approved', { decidedBy: 'alice@example.com', via: 'test' }, now)).complete).toBe(false);
    await expect(approvals.decide(two, 'approved', { decidedBy: 'alice@example.com', via: 'test' }, now)).rejects.toMatchObject({
      name: 'ApprovalAlreadyDecidedError',
    });
    expect((await approvals.decide(two, 'approved', { decidedBy: 'bob@example.com', via: 'test' }, now)).complete).toBe(true);

    expect(await Promise.all([approvals.useTotpStep('alice@example.com', 100), approvals.useTotpStep('alice@example.com', 100)])).toEqual(
      expect.arrayContaining([true, false]),
    );
    expect(await approvals.useTotpStep('alice@example.com', 99)).toBe(false);
    // Attempts are reserved by one conditional UpdateItem each: 40 at once on one link get 5.
    const guessed = newApprovalId();
    const raced = await Promise.all(
      Array.from({ length: 40 }, () => approvals.reserveAttempt(guessed, 'mallory@example.com', record.expiresAt, now)),
    );
    const reserved = raced.flatMap((r) => ('reserved' in r ? [r.reserved] : []));
    expect(reserved).toHaveLength(5);
    const lockouts = [];
    for (const r of reserved) lockouts.push(await approvals.wrongCode(r, 'mallory@example.com', now));
    const other = newApprovalId();
    for (let i = 0; i < 5; i++) {
      const r = await approvals.reserveAttempt(other, 'mallory@example.com', record.expiresAt, now);
      if ('reserved' in r) lockouts.push(await approvals.wrongCode(r.reserved, 'mallory@example.com', now));
    }
    expect(lockouts.filter(Boolean)).toHaveLength(1);
    expect(await approvals.responderLocked('mallory@example.com', now)).toBe(true);
    expect(await approvals.responderLocked('alice@example.com', now)).toBe(false);
    await approvals.unlockResponder('mallory@example.com', now);
    expect(await approvals.responderLocked('mallory@example.com', now)).toBe(false);
    expect('reserved' in (await approvals.reserveAttempt(newApprovalId(), 'mallory@example.com', record.expiresAt, now))).toBe(true);
  });

  it('the shared CloudTrail meter: racing callers get distinct slots 500 ms apart', async () => {
    const timer = MotoAws.virtualTimer();
    const start = timer.now();
    const meter = new SharedMeter(moto.aws.documentClient(), tables.incidents, 2, timer);
    const sentNow = watchSent();
    await Promise.all(Array.from({ length: 4 }, () => meter.for('111122223333:us-east-1').take()));
    const slots = sentNow('PutCommand')
      .filter((s) => !s.error)
      .map((s) => (s.input['Item'] as { next: number }).next - 500 - start)
      .sort((a, b) => a - b);
    expect(slots).toEqual([0, 500, 1000, 1500]);
    expect(sentNow('PutCommand').some((s) => s.error === 'ConditionalCheckFailedException')).toBe(true);
  });

  itKeepsTheManifestHonest(__filename);
});
