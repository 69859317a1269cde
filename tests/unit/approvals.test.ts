import { createHash } from 'node:crypto';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ApprovalStore, newApprovalId } from '#shared/approval-store';
import { fixedClock } from '#shared/clock';
import { ApprovalAlreadyDecidedError, ApprovalExpiredError, ApprovalNotFoundError } from '#shared/errors';
import type { HumanTask } from '#shared/contracts/assessment';
import type { ApprovalRequest } from '#shared/contracts/task-item';
import { decide } from '#functions/approvals/approvals';
import { requestApproval } from '#functions/request-approval/request-approval';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';

const TOPIC = 'arn:aws:sns:us-east-1:999988887777:responders';
const snsMock = mockClient(SNSClient);
const sfnMock = mockClient(SFNClient);
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAXsecret-task-token';

let ddb: SimulatedDynamoDb;
let approvals: ApprovalStore;
const clock = fixedClock('2024-03-04T10:00:00Z');

/** The task as the assessment's plan.json holds it; the Map item carries its id and kind. */
const TASK: HumanTask = {
  id: 'change-root-password',
  kind: 'console',
  title: 'Change the root password',
  why: ['Whoever used root may know it.'],
  steps: ['Sign in as root.', 'Change it.'],
  verification: 'A PasswordUpdated event.',
};

const request = (overrides: Partial<ApprovalRequest['input']> = {}): ApprovalRequest => ({
  token: TOKEN,
  input: {
    incidentId: '111122223333-20240304T100000Z-abc',
    accountId: '111122223333',
    severity: 'critical',
    task: { id: TASK.id, kind: TASK.kind },
    waitSeconds: 3600,
    reminders: 0,
    maxReminders: 3,
    ...overrides,
  },
});

beforeEach(() => {
  snsMock.reset();
  sfnMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
  sfnMock.on(SendTaskSuccessCommand).resolves({});
  sfnMock.on(SendTaskFailureCommand).resolves({});
  ddb = new SimulatedDynamoDb();
  approvals = new ApprovalStore(ddb as never, 'approvals');
  clock.set('2024-03-04T10:00:00Z');
});

async function requested(id = newApprovalId(), overrides: Partial<ApprovalRequest['input']> = {}) {
  const taskDetails = (taskId: string) => (taskId === TASK.id ? Promise.resolve(TASK) : Promise.reject(new Error(`no task ${taskId}`)));
  const out = await requestApproval(request(overrides), {
    approvals,
    sns: new SNSClient({}),
    respondersTopicArn: TOPIC,
    approvalsBaseUrl: 'https://abc.execute-api.us-east-1.amazonaws.com/',
    expiryHours: 24,
    clock,
    taskDetails,
    newId: () => id,
  });
  return { id, out };
}

describe('request approval', () => {
  it('stores only the hash of the link id, keeps the token server side, and mails a link without it', async () => {
    const { id, out } = await requested();
    expect(out).toEqual({
      step: 'request-approval',
      status: 'requested',
      taskId: 'change-root-password',
      expiresAt: '2024-03-04T11:01:00.000Z',
    }); // the 3600 s wait + 60 s grace
    const item = ddb.items('approvals').find((i) => String(i['pk']).startsWith('APPROVAL#'));
    expect(item!['pk']).toBe(`APPROVAL#${createHash('sha256').update(id).digest('hex')}`);
    expect(JSON.stringify(item)).not.toContain(id);
    expect(item).toMatchObject({ token: TOKEN, status: 'pending', taskId: 'change-root-password' });
    const mail = snsMock.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(mail.TopicArn).toBe(TOPIC);
    expect(mail.Message).toContain(`https://abc.execute-api.us-east-1.amazonaws.com/approvals/${id}`);
    expect(mail.Message).not.toContain(TOKEN);
    expect(mail.Message).toContain('1. Sign in as root.');
  });

  it('a new link id has at least 128 bits of randomness', () => {
    const ids = new Set(Array.from({ length: 200 }, () => newApprovalId()));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(Buffer.from(id, 'base64url')).toHaveLength(32);
  });

  it('says why a reminder is sent', async () => {
    await requested(undefined, { reminders: 1, reason: 'No decision within 3600 seconds.' });
    const mail = snsMock.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(mail.Subject).toMatch(/^\[root-responder\] Reminder: Change the root password/);
    expect(mail.Message).toMatch(/^Reminder 1 of 3: No decision within 3600 seconds\./);
  });
});

describe('decide', () => {
  const deps = () => ({ approvals, sfn: new SFNClient({}), clock });

  it('approve: records who and when, then SendTaskSuccess with the decision', async () => {
    const { id } = await requested();
    clock.set('2024-03-04T10:05:00Z');
    const record = await decide({ id, outcome: 'approved', decidedBy: 'alice@example.com', via: 'web' }, deps());
    expect(record).toMatchObject({ status: 'approved', decidedBy: 'alice@example.com', decidedAt: '2024-03-04T10:05:00.000Z' });
    expect('token' in record).toBe(false);
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: TOKEN,
      output: JSON.stringify({ decision: 'approved', decidedBy: 'alice@example.com', decidedAt: '2024-03-04T10:05:00.000Z', via: 'web' }),
    });
  });

  it('reject: SendTaskFailure with ApprovalRejectedError, which the state machine catches by name', async () => {
    const { id } = await requested();
    await decide({ id, outcome: 'rejected', decidedBy: 'bob@example.com', via: 'web', reason: 'Not needed: access is back' }, deps());
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: TOKEN,
      error: 'ApprovalRejectedError',
      cause: 'Not needed: access is back',
    });
  });

  it('a link works once', async () => {
    const { id } = await requested();
    await decide({ id, outcome: 'approved', decidedBy: 'a', via: 'web' }, deps());
    await expect(decide({ id, outcome: 'rejected', decidedBy: 'b', via: 'web' }, deps())).rejects.toThrow(ApprovalAlreadyDecidedError);
    expect(sfnMock.calls()).toHaveLength(1);
  });

  it('an expired link decides nothing', async () => {
    const { id } = await requested();
    clock.set('2024-03-05T10:00:00Z');
    await expect(decide({ id, outcome: 'approved', decidedBy: 'a', via: 'web' }, deps())).rejects.toThrow(ApprovalExpiredError);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('an unknown link decides nothing', async () => {
    await expect(decide({ id: newApprovalId(), outcome: 'approved', decidedBy: 'a', via: 'web' }, deps())).rejects.toThrow(
      ApprovalNotFoundError,
    );
  });

  it('a token the workflow no longer waits on is reported, not swallowed', async () => {
    sfnMock.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'timed out', $metadata: {} }));
    const { id } = await requested();
    await expect(decide({ id, outcome: 'approved', decidedBy: 'a', via: 'web' }, deps())).rejects.toThrow(/no longer waiting/);
  });
});

describe('two-person rule and concurrency', () => {
  const deps = () => ({ approvals, sfn: new SFNClient({}), clock });

  it('a two-person approval resumes the workflow only when a second, different responder approves', async () => {
    const id = newApprovalId();
    await approvals.create(id, {
      incidentId: 'i',
      accountId: 'a',
      taskId: 'confirm-expected-sign-in',
      taskKind: 'gate',
      title: 'Was it you?',
      token: TOKEN,
      createdAt: '2024-03-04T10:00:00Z',
      expiresAt: '2024-03-04T11:00:00Z',
      requiredApprovals: 2,
    });
    const first = await decide({ id, outcome: 'approved', decidedBy: 'alice@example.com', via: 'web' }, deps());
    expect(first).toMatchObject({ complete: false, status: 'pending' });
    expect(sfnMock.calls()).toHaveLength(0);
    // Alice again (her page resubmitted): her one vote stands, no second vote, the workflow still waits.
    expect(await decide({ id, outcome: 'approved', decidedBy: 'alice@example.com', via: 'web' }, deps())).toMatchObject({
      complete: false,
      status: 'pending',
    });
    expect((await approvals.get(id))!.approvals.map((v) => v.by)).toEqual(['alice@example.com']);
    expect(sfnMock.calls()).toHaveLength(0);
    // Alice cannot turn her approval into a rejection by submitting again.
    await expect(decide({ id, outcome: 'rejected', decidedBy: 'alice@example.com', via: 'web' }, deps())).rejects.toThrow(
      /already approved by alice@example.com/,
    );
    const second = await decide({ id, outcome: 'approved', decidedBy: 'bob@example.com', via: 'web' }, deps());
    expect(second).toMatchObject({ complete: true, status: 'approved', decidedBy: 'alice@example.com + bob@example.com' });
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  it('two decisions at once: exactly one wins', async () => {
    const { id } = await requested();
    const results = await Promise.allSettled([
      decide({ id, outcome: 'approved', decidedBy: 'alice@example.com', via: 'web' }, deps()),
      decide({ id, outcome: 'rejected', decidedBy: 'bob@example.com', via: 'web' }, deps()),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r.reason as Error).name)).toEqual(['ApprovalAlreadyDecidedError']);
    expect(sfnMock.calls()).toHaveLength(1);
  });

  it('a write whose response was lost and that the SDK sends again is recognised as ours: the decision stands and the workflow resumes', async () => {
    // The first Put of each kind reaches the table, its response is lost, and the SDK sends it again
    // (which then fails its condition on our own write).
    let lost = 0;
    const lossy = {
      send: async (command: unknown) => {
        if (command instanceof PutCommand && lost < 2 && command.input.ConditionExpression === 'version = :v') {
          lost += 1;
          await ddb.send(command);
          return ddb.send(command);
        }
        return ddb.send(command);
      },
    };
    const { id } = await requested();
    approvals = new ApprovalStore(lossy as never, 'approvals');
    // The store itself knows its own write (without the write id this is "already decided").
    const stored = await approvals.decide(id, 'approved', { decidedBy: 'alice@example.com', via: 'web' }, clock.now());
    expect(stored).toMatchObject({ complete: true, record: { status: 'approved', decidedBy: 'alice@example.com' } });
    expect(lost).toBe(1);
    // The same for a TOTP step: our own retried write is not a replay; a real replay still is.
    expect(await approvals.useTotpStep('alice@example.com', 100)).toBe(true);
    expect(await approvals.useTotpStep('alice@example.com', 101)).toBe(true);
    expect(lost).toBe(2);
    expect(await approvals.useTotpStep('alice@example.com', 101)).toBe(false);
  });

  it('a responder who submits again after a failure that came after the decision was written resumes the workflow, once', async () => {
    const { id } = await requested();
    // The decision is written, then the function fails before the workflow hears it.
    await approvals.decide(id, 'approved', { decidedBy: 'alice@example.com', via: 'web' }, clock.now());
    expect(sfnMock.calls()).toHaveLength(0);
    const again = await decide({ id, outcome: 'approved', decidedBy: 'alice@example.com', via: 'web' }, deps());
    expect(again).toMatchObject({ complete: true, resent: true, status: 'approved', decidedBy: 'alice@example.com' });
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    // If the workflow had heard already, the token is refused: still a success for the responder.
    sfnMock.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    expect(await decide({ id, outcome: 'approved', decidedBy: 'alice@example.com', via: 'web' }, deps())).toMatchObject({ complete: true });
    // Someone else, or the opposite decision, is still refused.
    await expect(decide({ id, outcome: 'approved', decidedBy: 'bob@example.com', via: 'web' }, deps())).rejects.toBeInstanceOf(
      ApprovalAlreadyDecidedError,
    );
    await expect(decide({ id, outcome: 'rejected', decidedBy: 'alice@example.com', via: 'web' }, deps())).rejects.toBeInstanceOf(
      ApprovalAlreadyDecidedError,
    );
  });

  it('a TOTP time step is accepted once per responder', async () => {
    expect(await approvals.useTotpStep('alice@example.com', 1000)).toBe(true);
    expect(await approvals.useTotpStep('alice@example.com', 1000)).toBe(false);
    expect(await approvals.useTotpStep('ALICE@example.com', 999)).toBe(false);
    expect(await approvals.useTotpStep('bob@example.com', 1000)).toBe(true);
    expect(await approvals.useTotpStep('alice@example.com', 1001)).toBe(true);
  });

  it('reserves attempts atomically: 40 parallel reservations on one link for one responder get 5, others are unaffected', async () => {
    const { id } = await requested();
    const now = new Date('2024-03-04T10:30:00Z');
    const raced = await Promise.all(
      Array.from({ length: 40 }, () => approvals.reserveAttempt(id, 'mallory@example.com', '2024-03-04T11:00:00Z', now)),
    );
    expect(raced.filter((r) => 'reserved' in r)).toHaveLength(5);
    expect(raced.filter((r) => 'refused' in r && r.refused === 'link')).toHaveLength(35);
    // Another responder on the same link still has all of theirs; a right code gives its slot back.
    const bobs = await approvals.reserveAttempt(id, 'bob@example.com', '2024-03-04T11:00:00Z', now);
    expect('reserved' in bobs).toBe(true);
    if ('reserved' in bobs) await approvals.releaseAttempt(bobs.reserved);
    for (let i = 0; i < 5; i++)
      expect('reserved' in (await approvals.reserveAttempt(id, 'bob@example.com', '2024-03-04T11:00:00Z', now))).toBe(true);
  });

  it('a two-person task is rejected only by two different responders', async () => {
    const id = newApprovalId();
    await approvals.create(id, {
      incidentId: 'i',
      accountId: 'a',
      taskId: 'confirm-expected-sign-in',
      taskKind: 'gate',
      title: 'Was it you?',
      token: TOKEN,
      createdAt: '2024-03-04T10:00:00Z',
      expiresAt: '2024-03-04T11:00:00Z',
      requiredApprovals: 2,
    });
    const first = await decide({ id, outcome: 'rejected', decidedBy: 'alice@example.com', via: 'web', reason: 'no' }, deps());
    expect(first).toMatchObject({ complete: false, status: 'pending' });
    expect(sfnMock.calls()).toHaveLength(0);
    await expect(decide({ id, outcome: 'rejected', decidedBy: 'alice@example.com', via: 'web' }, deps())).resolves.toMatchObject({
      complete: false,
      resent: true,
    });
    const second = await decide({ id, outcome: 'rejected', decidedBy: 'bob@example.com', via: 'web', reason: 'not us' }, deps());
    expect(second).toMatchObject({ complete: true, status: 'rejected', decidedBy: 'alice@example.com + bob@example.com' });
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, { error: 'ApprovalRejectedError' });
  });
});
