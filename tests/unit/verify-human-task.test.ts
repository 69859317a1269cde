import { AccountClient, GetAlternateContactCommand, ResourceNotFoundException } from '@aws-sdk/client-account';
import { mockClient } from 'aws-sdk-client-mock';
import type { JsonObject } from '#shared/cloudtrail';
import { fixedClock } from '#shared/clock';
import { RateLimiters, virtualTimer } from '#shared/rate-limit';
import type { TaskItemState } from '#shared/contracts/task-item';
import { actionResult } from '../helpers-state';
import { verifyHumanTask } from '#functions/verify-human-task/verify-human-task';
import { SimulatedAws } from '#drill/simulated-aws';
import { simAccount, world } from '../helpers-sim';
import { meta, sdkTargetClients } from '../helpers-mock';

const ACCOUNT = '210987654321';
const clock = fixedClock('2024-03-04T12:00:00Z');
const baseline = {
  alternateContacts: {
    SECURITY: { name: 'Acme Security', title: 'Security team', emailAddress: 'security@acme.example', phoneNumber: '+1-206-555-0100' },
  },
  expectedOrganizationId: null,
};

const item = (
  task: { id: string; kind: 'console' | 'remediation'; remediation?: { action: string; target: string; region: string } },
  extra: Partial<TaskItemState> = {},
): TaskItemState => ({
  Payload: {
    input: {
      incidentId: 'i',
      accountId: ACCOUNT,
      severity: 'critical',
      task,
      openedAt: '2024-03-04T10:00:00Z',
      waitSeconds: 60,
      reminders: 0,
      maxReminders: 1,
    },
  },
  ...extra,
});

describe('verify a restored alternate contact', () => {
  const restored = item(
    {
      id: 'restore-alternate-contact-security',
      kind: 'remediation',
      remediation: { action: 'restore-alternate-contact', target: 'SECURITY', region: 'us-east-1' },
    },
    {
      action: {
        Payload: actionResult('restore-alternate-contact-security', {
          action: 'restore-alternate-contact',
          target: 'SECURITY',
          detail: 'Restored',
        }),
      },
    },
  );

  it('unset (ResourceNotFoundException) is "not restored", a verification that failed, not an error', async () => {
    const account = mockClient(AccountClient);
    account.on(GetAlternateContactCommand).rejects(new ResourceNotFoundException(meta(404)));
    try {
      const out = await verifyHumanTask(restored, {
        clients: sdkTargetClients(),
        clock,
        limiters: new RateLimiters(2, virtualTimer()),
        baseline,
        taskDetails: (id: string) =>
          Promise.resolve({ id, kind: 'remediation' as const, title: 'T', why: [], steps: [], verification: 'v' }),
      });
      expect(out).toMatchObject({ verified: false, reason: 'The SECURITY contact is unset, not security@acme.example' });
    } finally {
      account.restore();
    }
  });

  it('the same against the simulated account, and "verified" once the contact is back', async () => {
    const sim = simAccount(ACCOUNT);
    const aws = new SimulatedAws(world([sim]));
    const deps = {
      clients: aws.targetClients({ accountId: ACCOUNT }),
      clock,
      limiters: new RateLimiters(2, virtualTimer()),
      baseline,
      taskDetails: (id: string) => Promise.resolve({ id, kind: 'remediation' as const, title: 'T', why: [], steps: [], verification: 'v' }),
    };
    expect(await verifyHumanTask(restored, deps)).toMatchObject({
      verified: false,
      reason: 'The SECURITY contact is unset, not security@acme.example',
    });
    sim.alternateContacts.SECURITY = {
      Name: 'Acme Security',
      Title: 'Security team',
      EmailAddress: 'security@acme.example',
      PhoneNumber: '+1-206-555-0100',
    };
    expect(await verifyHumanTask(restored, deps)).toMatchObject({ verified: true });
  });
});

describe('verify the root password change', () => {
  const passwordUpdated = (i: number, type: 'Root' | 'IAMUser', at: number): JsonObject => ({
    eventVersion: '1.08',
    eventID: `password-${type}-${i}`,
    eventTime: new Date(at).toISOString(),
    eventSource: 'signin.amazonaws.com',
    eventName: 'PasswordUpdated',
    eventType: 'AwsConsoleSignIn',
    awsRegion: 'us-east-1',
    userIdentity:
      type === 'Root'
        ? { type: 'Root', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, principalId: ACCOUNT }
        : { type: 'IAMUser', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/u${i}`, userName: `u${i}`, principalId: 'AIDA' },
    responseElements: { PasswordUpdated: 'Success' },
    recipientAccountId: ACCOUNT,
  });

  it("finds root's PasswordUpdated behind 120 newer IAM user password changes (page 3 of LookupEvents), within 2 calls/s", async () => {
    const rootAt = Date.parse('2024-03-04T10:30:00Z');
    const users = Array.from({ length: 120 }, (_, i) => passwordUpdated(i, 'IAMUser', rootAt + (i + 1) * 1000));
    // One clock for the simulated account's 2 calls/s and the step's limiter.
    const timer = virtualTimer();
    const aws = new SimulatedAws(
      world([simAccount(ACCOUNT, { events: { 'us-east-1': [...users, passwordUpdated(0, 'Root', rootAt)] } })]),
      timer,
    );
    const out = await verifyHumanTask(item({ id: 'change-root-password', kind: 'console' }), {
      clients: aws.targetClients({ accountId: ACCOUNT }),
      clock,
      limiters: new RateLimiters(2, timer),
      baseline,
      taskDetails: (id: string) => Promise.resolve({ id, kind: 'remediation' as const, title: 'T', why: [], steps: [], verification: 'v' }),
    });
    expect(out).toMatchObject({ verified: true, reason: 'CloudTrail: root PasswordUpdated at 2024-03-04T10:30:00.000Z' });
    const lookups = aws.calls.filter((c) => c.command === 'LookupEventsCommand');
    expect(lookups).toHaveLength(3);
    expect(lookups.filter((c) => c.error)).toEqual([]);
  });
});
