import { fixedClock } from '#shared/clock';
import { virtualTimer } from '#shared/rate-limit';
import { containRootCredentials, type ContainDeps } from '#functions/contain-root-credentials/contain-root-credentials';
import { type SimOrganization, SimulatedAws } from '#drill/simulated-aws';
import { simAccount, world } from '../helpers-sim';
import { executionInput, rootSnapshot } from '../helpers-state';

const MGMT = '999988887777';
const MEMBER = '444455556666';
const clock = fixedClock('2024-03-04T10:00:00Z');
const state = (accountId = MEMBER) => executionInput({ accountId, openedAt: '2024-03-04T09:55:00Z' });

function setup(features: SimOrganization['features'] = ['RootCredentialsManagement', 'RootSessions']) {
  const member = simAccount(MEMBER, {
    root: {
      accessKeys: [
        { AccessKeyId: 'AKIAMEMBERROOTKEY001', Status: 'Active', CreateDate: '2024-01-01T00:00:00Z' },
        { AccessKeyId: 'AKIAMEMBERROOTKEY002', Status: 'Inactive', CreateDate: '2024-03-04T09:58:00Z' },
      ],
      signingCertificates: [{ CertificateId: 'CERT000000000000000000000001', Status: 'Active', UploadDate: '2024-01-01T00:00:00Z' }],
      mfaDevices: [],
      password: true,
    },
  });
  const aws = new SimulatedAws(
    world([simAccount(MGMT), member], {
      organization: { id: 'o-abcdefghij', managementAccountId: MGMT, features, delegatedAdmins: [] },
      responderAccountId: MGMT,
    }),
    virtualTimer(),
  );
  const sessions: string[] = [];
  const deps: ContainDeps = {
    responder: aws.targetClients({ accountId: MGMT }),
    member: true,
    region: 'us-east-1',
    clock,
    timer: virtualTimer(),
    recordOwnSession: (_a, key) => Promise.resolve(void sessions.push(key)),
  };
  return { aws, deps, sessions, member };
}

const deletions = (aws: SimulatedAws) => aws.changes.map((c) => `${c.change} ${c.target}`).sort();

describe('contain root credentials', () => {
  it('member account: deletes every root access key and signing certificate under an AssumeRoot delete session', async () => {
    const { aws, deps, sessions, member } = setup();
    const out = await containRootCredentials(state(), deps);

    expect(out).toMatchObject({ status: 'done', blockedBy: null });
    expect(out.actions.map((a) => [a.action, a.target, a.status])).toEqual([
      ['delete-root-access-key', 'AKIAMEMBERROOTKEY001', 'done'],
      ['delete-root-access-key', 'AKIAMEMBERROOTKEY002', 'done'],
      ['delete-root-signing-certificate', 'CERT000000000000000000000001', 'done'],
    ]);
    expect(out.before!.accessKeys.map((k) => [k.AccessKeyId, k.Status, k.CreateDate])).toEqual([
      ['AKIAMEMBERROOTKEY001', 'Active', '2024-01-01T00:00:00.000Z'],
      ['AKIAMEMBERROOTKEY002', 'Inactive', '2024-03-04T09:58:00.000Z'],
    ]);
    // Counted inside the simulated account, not read from the step's output.
    expect(deletions(aws)).toEqual([
      'delete-root-access-key AKIAMEMBERROOTKEY001',
      'delete-root-access-key AKIAMEMBERROOTKEY002',
      'delete-root-signing-certificate CERT000000000000000000000001',
    ]);
    expect(member.root.accessKeys).toEqual([]);
    expect(member.root.signingCertificates).toEqual([]);
    const assume = aws.calls.find((c) => c.command === 'AssumeRootCommand')!;
    expect(assume.input).toMatchObject({
      TargetPrincipal: MEMBER,
      TaskPolicyArn: { arn: 'arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials' },
      DurationSeconds: 900,
    });
    expect(sessions).toEqual([out.ownSessionAccessKeyId]);
  });

  it('deletes what the snapshot saw in the second round trip, and finds what was created since', async () => {
    const timer = virtualTimer(0);
    const { member } = setup();
    const aws = new SimulatedAws(
      world([simAccount(MGMT), member], {
        organization: {
          id: 'o-abcdefghij',
          managementAccountId: MGMT,
          features: ['RootCredentialsManagement', 'RootSessions'],
          delegatedAdmins: [],
        },
        responderAccountId: MGMT,
      }),
      timer,
      100,
    );
    const snapshot = {
      Payload: rootSnapshot({
        accountId: MEMBER,
        method: 'assume-root-audit',
        root: {
          accessKeysPresent: true,
          accessKeys: [{ AccessKeyId: 'AKIAMEMBERROOTKEY001', Status: 'Active', CreateDate: '2024-01-01T00:00:00.000Z' }],
          signingCertificatesPresent: true,
          signingCertificates: [{ CertificateId: 'CERT000000000000000000000001', Status: 'Active' }],
        },
      }),
    };
    const out = await containRootCredentials(
      { ...state(), snapshot },
      { responder: aws.targetClients({ accountId: MGMT }), member: true, region: 'us-east-1', clock, timer },
    );
    expect(out.status).toBe('done');
    const deleted = aws.changes.map((c) => [c.target, c.at]);
    // 100 ms per call: round trip 1 (features + AssumeRoot), round trip 2 (the snapshot's key and certificate) ...
    expect(deleted).toContainEqual(['AKIAMEMBERROOTKEY001', 200]);
    expect(deleted).toContainEqual(['CERT000000000000000000000001', 200]);
    // ... and the key the snapshot did not see (created after it) in round trip 3.
    expect(deleted).toContainEqual(['AKIAMEMBERROOTKEY002', 300]);
  });

  it('is idempotent: run again, nothing is deleted twice and it still succeeds', async () => {
    const { aws, deps } = setup();
    await containRootCredentials(state(), deps);
    const again = await containRootCredentials(state(), deps);
    expect(again).toMatchObject({ status: 'done', actions: [] });
    expect(deletions(aws)).toHaveLength(3);
  });

  it('a key deleted by someone else in between is "already gone", not a failure', async () => {
    const { aws, deps, member } = setup();
    // Between the list and the delete, someone removes key 002.
    const original = aws.client.bind(aws);
    aws.client = (options) => {
      const client = original(options);
      return {
        send: async <C>(command: C) => {
          if (
            (command as object).constructor.name === 'DeleteAccessKeyCommand' &&
            (command as { input: { AccessKeyId: string } }).input.AccessKeyId === 'AKIAMEMBERROOTKEY002'
          ) {
            member.root.accessKeys = member.root.accessKeys.filter((k) => k.AccessKeyId !== 'AKIAMEMBERROOTKEY002');
          }
          return client.send(command);
        },
      };
    };
    const out = await containRootCredentials(state(), { ...deps, responder: aws.targetClients({ accountId: MGMT }) });
    expect(out.status).toBe('done');
    expect(out.actions.find((a) => a.target === 'AKIAMEMBERROOTKEY002')!.status).toBe('already-gone');
    expect(deletions(aws)).toEqual([
      'delete-root-access-key AKIAMEMBERROOTKEY001',
      'delete-root-signing-certificate CERT000000000000000000000001',
    ]);
  });

  it('retries a throttled DeleteAccessKey and deletes each key exactly once', async () => {
    const { aws, deps } = setup();
    aws.inject({ command: 'DeleteAccessKeyCommand', error: 'ThrottlingException', times: 2 });
    const out = await containRootCredentials(state(), deps);
    expect(out.status).toBe('done');
    expect(deletions(aws)).toHaveLength(3);
    expect(aws.calls.filter((c) => c.command === 'DeleteAccessKeyCommand' && c.error === 'ThrottlingException')).toHaveLength(2);
  });

  it('AccessDenied on AssumeRoot: nothing deleted, the missing permission is named, the workflow goes on', async () => {
    const { aws, deps } = setup();
    aws.inject({ command: 'AssumeRootCommand', error: 'AccessDenied', times: 1 });
    const out = await containRootCredentials(state(), deps);
    expect(out.status).toBe('failed');
    expect(out.blockedBy).toMatch(/^sts:AssumeRoot with IAMDeleteRootUserCredentials was refused/);
    expect(aws.changes).toEqual([]);
  });

  it('centralized root access not enabled: skipped, naming the missing feature', async () => {
    const { aws, deps } = setup(['RootCredentialsManagement']);
    const out = await containRootCredentials(state(), deps);
    expect(out).toMatchObject({ status: 'skipped', blockedBy: 'centralized root access: RootSessions not enabled for the organization' });
    // AssumeRoot was tried in the same round trip and refused; nothing changed.
    expect(aws.calls.filter((c) => c.command === 'AssumeRootCommand').map((c) => c.error)).toEqual(['AccessDenied']);
    expect(aws.changes).toEqual([]);
  });

  it('standalone or management account: skipped, a human task, and says no cut-off exists', async () => {
    const { aws, deps } = setup();
    const out = await containRootCredentials(state(MGMT), { ...deps, member: false });
    expect(out).toMatchObject({ status: 'skipped', actions: [] });
    expect(out.cutOff).toMatch(/^No automatic cut-off exists/);
    expect(aws.calls).toEqual([]);
  });
});
