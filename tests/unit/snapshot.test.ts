import { GetAccountSummaryCommand, IAMClient, ListVirtualMFADevicesCommand, type VirtualMFADevice } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '#shared/clock';
import type { TargetClients } from '#shared/clients';
import { snapshotRootCredentials } from '#functions/snapshot-root-credentials/snapshot-root-credentials';
import { SimulatedAws } from '#drill/simulated-aws';
import { simAccount, world } from '../helpers-sim';
import { sdkTargetClients } from '../helpers-mock';
import { executionInput } from '../helpers-state';

const MGMT = '999988887777';
const MEMBER = '444455556666';
const clock = fixedClock('2024-03-04T10:00:00Z');

const clientsOf = (aws: SimulatedAws, accountId: string): TargetClients => aws.targetClients({ accountId });

const state = (accountId: string) => executionInput({ accountId, openedAt: '2024-03-04T09:00:00Z' });

describe('snapshot root credentials', () => {
  it('standalone: GetAccountSummary and the root virtual MFA device, found by its user ARN; lists what it cannot see', async () => {
    const account = simAccount('111122223333', {
      root: {
        accessKeys: [{ AccessKeyId: 'AKIAROOT000000000001', Status: 'Active', CreateDate: '2024-01-01T00:00:00Z' }],
        signingCertificates: [],
        mfaDevices: [{ SerialNumber: 'arn:aws:iam::111122223333:mfa/whatever-name', kind: 'virtual', EnableDate: '2024-01-01T00:00:00Z' }],
        password: true,
      },
    });
    const aws = new SimulatedAws(world([account]));
    const snap = await snapshotRootCredentials(state('111122223333'), {
      clients: clientsOf(aws, '111122223333'),
      responder: clientsOf(aws, '111122223333'),
      useAssumeRoot: false,
      region: 'us-east-1',
      clock,
    });
    expect(snap).toMatchObject({
      method: 'account-summary',
      root: {
        accessKeysPresent: true,
        mfaEnabled: true,
        mfaDevices: [{ SerialNumber: 'arn:aws:iam::111122223333:mfa/whatever-name', kind: 'virtual' }],
        accessKeys: null,
        passwordPresent: null,
      },
    });
    expect(snap.notVisible).toHaveLength(3);
    expect(aws.calls.map((c) => c.command).sort()).toEqual(['GetAccountSummaryCommand', 'ListVirtualMFADevicesCommand']);
  });

  it('member account: an AssumeRoot audit session lists keys, certificates, every MFA device and the password, and is recorded as ours', async () => {
    const member = simAccount(MEMBER, {
      root: {
        accessKeys: [{ AccessKeyId: 'AKIAMEMBER0000000001', Status: 'Active', CreateDate: '2024-01-01T00:00:00Z' }],
        signingCertificates: [{ CertificateId: 'CERT1', Status: 'Active', UploadDate: '2024-01-01T00:00:00Z' }],
        mfaDevices: [{ SerialNumber: 'GAHT000001', kind: 'hardware', EnableDate: '2024-01-01T00:00:00Z' }],
        password: false,
      },
    });
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
    );
    const sessions: string[] = [];
    const snap = await snapshotRootCredentials(state(MEMBER), {
      clients: clientsOf(aws, MEMBER),
      responder: clientsOf(aws, MGMT),
      useAssumeRoot: true,
      region: 'us-east-1',
      clock,
      recordOwnSession: (_account, keyId) => Promise.resolve(void sessions.push(keyId)),
    });
    expect(snap).toMatchObject({
      method: 'assume-root-audit',
      root: {
        accessKeysPresent: true,
        accessKeys: [{ AccessKeyId: 'AKIAMEMBER0000000001', Status: 'Active' }],
        signingCertificates: [{ CertificateId: 'CERT1' }],
        mfaEnabled: true,
        mfaDevices: [{ SerialNumber: 'GAHT000001', kind: 'other' }],
        passwordPresent: false,
      },
      notVisible: [],
    });
    expect(sessions).toEqual([snap.ownSessionAccessKeyId]);
    expect(snap.ownSessionAccessKeyId).toMatch(/^ASIA/);
  });

  it('member account without centralized root access: says AssumeRoot was refused and reads what it can', async () => {
    const aws = new SimulatedAws(
      world([simAccount(MGMT), simAccount(MEMBER)], {
        organization: { id: 'o-abcdefghij', managementAccountId: MGMT, features: ['RootCredentialsManagement'], delegatedAdmins: [] },
        responderAccountId: MGMT,
      }),
    );
    const snap = await snapshotRootCredentials(state(MEMBER), {
      clients: clientsOf(aws, MEMBER),
      responder: clientsOf(aws, MGMT),
      useAssumeRoot: true,
      region: 'us-east-1',
      clock,
    });
    expect(snap.method).toBe('account-summary');
    expect(snap.notVisible[0]).toMatch(
      /^root's credentials through an AssumeRoot audit session, which was refused \(.*RootSessions.*a person checks root's keys, password and MFA devices in the console$/,
    );
  });

  it('flags root MFA devices that are not in the configured list', async () => {
    const account = simAccount('111122223333', {
      root: {
        accessKeys: [],
        signingCertificates: [],
        mfaDevices: [
          { SerialNumber: 'arn:aws:iam::111122223333:mfa/ours', kind: 'virtual', EnableDate: '2024-01-01T00:00:00Z' },
          { SerialNumber: 'arn:aws:iam::111122223333:mfa/theirs', kind: 'virtual', EnableDate: '2024-03-04T09:59:00Z' },
        ],
        password: true,
      },
    });
    const aws = new SimulatedAws(world([account]));
    const c = clientsOf(aws, '111122223333');
    const snap = await snapshotRootCredentials(state('111122223333'), {
      clients: c,
      responder: c,
      useAssumeRoot: false,
      region: 'us-east-1',
      clock,
      expectedMfaDevices: ['arn:aws:iam::111122223333:mfa/ours'],
    });
    expect(snap.unexpectedMfaDevices).toEqual(['arn:aws:iam::111122223333:mfa/theirs']);
    const unconfigured = await snapshotRootCredentials(state('111122223333'), {
      clients: c,
      responder: c,
      useAssumeRoot: false,
      region: 'us-east-1',
      clock,
    });
    expect(unconfigured.unexpectedMfaDevices).toEqual([]);
  });

  it('a throttled read is a TransientAwsError (the state machine retries it)', async () => {
    const aws = new SimulatedAws(world([simAccount('111122223333')]));
    aws.inject({ command: 'GetAccountSummaryCommand', error: 'ThrottlingException', times: 1 });
    await expect(
      snapshotRootCredentials(state('111122223333'), {
        clients: clientsOf(aws, '111122223333'),
        responder: clientsOf(aws, '111122223333'),
        useAssumeRoot: false,
        region: 'us-east-1',
        clock,
      }),
    ).rejects.toMatchObject({ name: 'TransientAwsError' });
  });
});

describe('snapshot root credentials: every page of ListVirtualMFADevices', () => {
  const ACCOUNT = '111122223333';
  const userDevice = (i: number): VirtualMFADevice => ({
    SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/user-${String(i).padStart(3, '0')}`,
    User: { Arn: `arn:aws:iam::${ACCOUNT}:user/user-${i}`, UserName: `user-${i}`, UserId: 'AIDA', Path: '/', CreateDate: new Date(0) },
  });
  const rootDevice = (name: string): VirtualMFADevice => ({
    SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/${name}`,
    User: { Arn: `arn:aws:iam::${ACCOUNT}:root`, UserName: '', UserId: ACCOUNT, Path: '/', CreateDate: new Date(0) },
  });

  it("finds root's device and the attacker's on page 3 of 250 devices (IAM pages at 100: IsTruncated, Marker)", async () => {
    const iam = mockClient(IAMClient);
    const devices = [...Array.from({ length: 248 }, (_, i) => userDevice(i)), rootDevice('ours'), rootDevice('theirs')];
    iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: { AccountAccessKeysPresent: 0, AccountMFAEnabled: 1 } });
    iam.on(ListVirtualMFADevicesCommand).callsFake((input: { Marker?: string }) => {
      const start = Number(input.Marker ?? 0);
      const end = start + 100;
      return end < devices.length
        ? { VirtualMFADevices: devices.slice(start, end), IsTruncated: true, Marker: String(end) }
        : { VirtualMFADevices: devices.slice(start), IsTruncated: false };
    });
    try {
      const c = sdkTargetClients();
      const snap = await snapshotRootCredentials(state(ACCOUNT), {
        clients: c,
        responder: c,
        useAssumeRoot: false,
        region: 'us-east-1',
        clock,
        expectedMfaDevices: [`arn:aws:iam::${ACCOUNT}:mfa/ours`],
      });
      expect(snap.root.mfaDevices.map((d) => d.SerialNumber)).toEqual([
        `arn:aws:iam::${ACCOUNT}:mfa/ours`,
        `arn:aws:iam::${ACCOUNT}:mfa/theirs`,
      ]);
      expect(snap.unexpectedMfaDevices).toEqual([`arn:aws:iam::${ACCOUNT}:mfa/theirs`]);
      expect(iam.commandCalls(ListVirtualMFADevicesCommand).map((c) => c.args[0].input.Marker)).toEqual([undefined, '100', '200']);
    } finally {
      iam.restore();
    }
  });

  it('the simulated account pages as IAM does, and the snapshot reads every page', async () => {
    const account = simAccount(ACCOUNT, {
      root: {
        accessKeys: [],
        signingCertificates: [],
        mfaDevices: [{ SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/zz-root`, kind: 'virtual', EnableDate: '2024-01-01T00:00:00Z' }],
        password: true,
      },
      userVirtualMfaDevices: Array.from({ length: 249 }, (_, i) => ({
        SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/user-${String(i).padStart(3, '0')}`,
        UserName: `user-${i}`,
        EnableDate: '2024-01-01T00:00:00Z',
      })),
    });
    const aws = new SimulatedAws(world([account]));
    const c = clientsOf(aws, ACCOUNT);
    const first = await c.iam().send(new ListVirtualMFADevicesCommand({}));
    expect({ devices: first.VirtualMFADevices?.length, truncated: first.IsTruncated, marker: typeof first.Marker }).toEqual({
      devices: 100,
      truncated: true,
      marker: 'string',
    });
    const snap = await snapshotRootCredentials(state(ACCOUNT), {
      clients: c,
      responder: c,
      useAssumeRoot: false,
      region: 'us-east-1',
      clock,
    });
    expect(snap.root.mfaDevices).toEqual([{ SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/zz-root`, kind: 'virtual' }]);
    expect(aws.calls.filter((call) => call.command === 'ListVirtualMFADevicesCommand')).toHaveLength(1 + 3);
  });
});
