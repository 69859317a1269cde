import { fixedClock } from '#shared/clock';
import type { TaskItemState } from '#shared/contracts/task-item';
import { runApprovedAction, type RunActionDeps } from '#functions/run-approved-action/run-approved-action';
import { SimulatedAws } from '#drill/simulated-aws';
import { RateLimiters, virtualTimer } from '#shared/rate-limit';
import { simAccount, world } from '../helpers-sim';

const ACCOUNT = '210987654321';
const clock = fixedClock('2024-03-04T11:00:00Z');
const item = (
  remediation?: { action: string; target: string; region: string },
  kind: 'remediation' | 'console' = 'remediation',
): TaskItemState => ({
  Payload: {
    input: {
      incidentId: 'i',
      accountId: ACCOUNT,
      severity: 'critical',
      task: { id: 't', kind, ...(remediation ? { remediation } : {}) },
      waitSeconds: 60,
      reminders: 0,
      maxReminders: 1,
    },
  },
});

function setup() {
  const account = simAccount(ACCOUNT, {
    iamUsers: [
      {
        UserName: 'tracy_stone',
        CreateDate: '2024-03-04T10:00:00Z',
        accessKeys: [{ AccessKeyId: 'AKIAUSERKEY000000001', Status: 'Active', CreateDate: '2024-03-04T10:01:00Z' }],
        loginProfile: true,
      },
    ],
    trails: [{ Name: 'trail-eu', HomeRegion: 'eu-west-1', IsMultiRegionTrail: false, IsLogging: false }],
    alternateContacts: { SECURITY: { Name: 'x', Title: 'x', EmailAddress: 'attacker@mailbox.example', PhoneNumber: '1' } },
  });
  const aws = new SimulatedAws(world([account]));
  const deps: RunActionDeps = {
    clients: aws.targetClients({ accountId: ACCOUNT }),
    responder: aws.targetClients({ accountId: ACCOUNT }),
    member: false,
    clock,
    baseline: {
      alternateContacts: { SECURITY: { name: 'Sec', title: 'Security', emailAddress: 'security@acme.example', phoneNumber: '+1' } },
    },
    limiters: new RateLimiters(2, virtualTimer()),
    taskDetails: (id) => Promise.resolve({ id, kind: 'remediation', title: 'T', why: [], steps: [], verification: 'v' }),
  };
  return { aws, account, deps };
}

describe('run approved action', () => {
  it('quarantines an IAM user reversibly, and a second run changes nothing twice', async () => {
    const { aws, account, deps } = setup();
    const out = await runApprovedAction(item({ action: 'quarantine-iam-user', target: 'tracy_stone', region: 'us-east-1' }), deps);
    expect(out).toMatchObject({ status: 'done', action: 'quarantine-iam-user', target: 'tracy_stone' });
    const user = account.iamUsers[0]!;
    expect(Object.keys(user.inlinePolicies ?? {})).toEqual(['root-responder-quarantine']);
    expect(JSON.parse(user.inlinePolicies!['root-responder-quarantine']!)).toMatchObject({
      Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }],
    });
    expect(user.accessKeys![0]!.Status).toBe('Inactive');
    // Reversible in fact: the console password is kept, the undo names the key it deactivated.
    expect(user.loginProfile).toBe(true);
    expect(out.undo).toEqual([
      'aws iam delete-user-policy --user-name tracy_stone --policy-name root-responder-quarantine',
      'aws iam update-access-key --user-name tracy_stone --access-key-id AKIAUSERKEY000000001 --status Active',
    ]);
    const again = await runApprovedAction(item({ action: 'quarantine-iam-user', target: 'tracy_stone', region: 'us-east-1' }), deps);
    expect(again.status).toBe('done');
    expect(aws.changes.map((c) => c.change).sort()).toEqual(['access-key-inactive', 'put-user-policy']);
  });

  it('restores a contact from the baseline, and skips (saying why) when there is none', async () => {
    const { account, deps } = setup();
    expect(
      await runApprovedAction(item({ action: 'restore-alternate-contact', target: 'SECURITY', region: 'us-east-1' }), deps),
    ).toMatchObject({ status: 'done' });
    expect(account.alternateContacts.SECURITY!.EmailAddress).toBe('security@acme.example');
    const none = await runApprovedAction(item({ action: 'restore-alternate-contact', target: 'BILLING', region: 'us-east-1' }), deps);
    expect(none).toMatchObject({ status: 'skipped' });
    expect(none.detail).toMatch(/No complete BILLING contact in the configured baseline/);
  });

  it('restarts a stopped trail in its region', async () => {
    const { account, deps } = setup();
    expect(await runApprovedAction(item({ action: 'restart-trail', target: 'trail-eu', region: 'eu-west-1' }), deps)).toMatchObject({
      status: 'done',
    });
    expect(account.trails[0]!.IsLogging).toBe(true);
  });

  it('reports a refused change as failed with the reason, never as done', async () => {
    const { aws, deps } = setup();
    aws.inject({ command: 'PutUserPolicyCommand', error: 'AccessDenied', times: 1 });
    const out = await runApprovedAction(item({ action: 'quarantine-iam-user', target: 'tracy_stone', region: 'us-east-1' }), deps);
    expect(out.status).toBe('failed');
    expect(out.detail).toMatch(/^AccessDeniedError: iam:PutUserPolicy was refused/);
    expect(aws.changes).toEqual([]);
  });

  it('root credentials outside a member account: skipped, the human task covers it', async () => {
    const { aws, deps } = setup();
    const out = await runApprovedAction(item({ action: 'delete-root-password', target: ACCOUNT, region: 'us-east-1' }), deps);
    expect(out).toMatchObject({ status: 'skipped' });
    expect(aws.calls).toEqual([]);
  });

  it('a console task runs nothing; an action the registry does not hold says not-implemented', async () => {
    const { aws, deps } = setup();
    expect(await runApprovedAction(item(undefined, 'console'), deps)).toMatchObject({ status: 'skipped' });
    expect(await runApprovedAction(item({ action: 'delete-identity-provider', target: 'idp', region: 'us-east-1' }), deps)).toMatchObject({
      status: 'not-implemented',
    });
    expect(aws.calls).toEqual([]);
  });
});
