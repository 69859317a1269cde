import { fixedClock } from '#shared/clock';
import type { TargetClients } from '#shared/clients';
import type { WorkflowState } from '#shared/schemas';
import { snapshotRootCredentials } from '#functions/snapshot-root-credentials/snapshot-root-credentials';
import { SimulatedAws } from '#local/simulated-aws';
import { simAccount, world } from '../helpers-sim';

const MGMT = '999988887777';
const MEMBER = '444455556666';
const clock = fixedClock('2024-03-04T10:00:00Z');

const clientsOf = (aws: SimulatedAws, accountId: string): TargetClients => aws.targetClients({ accountId });

const state = (accountId: string) => ({ incidentId: 'i', accountId, region: 'us-east-1', openedAt: '2024-03-04T09:00:00Z' }) as unknown as WorkflowState;

describe('snapshot root credentials', () => {
  it('standalone: GetAccountSummary and the root virtual MFA device, found by its user ARN; lists what it cannot see', async () => {
    const account = simAccount('111122223333', {
      root: { accessKeys: [{ AccessKeyId: 'AKIAROOT000000000001', Status: 'Active', CreateDate: '2024-01-01T00:00:00Z' }], signingCertificates: [], mfaDevices: [{ SerialNumber: 'arn:aws:iam::111122223333:mfa/whatever-name', kind: 'virtual', EnableDate: '2024-01-01T00:00:00Z' }], password: true },
    });
    const aws = new SimulatedAws(world([account]));
    const snap = await snapshotRootCredentials(state('111122223333'), { clients: clientsOf(aws, '111122223333'), responder: clientsOf(aws, '111122223333'), useAssumeRoot: false, region: 'us-east-1', clock });
    expect(snap).toMatchObject({ method: 'account-summary', root: { accessKeysPresent: true, mfaEnabled: true, mfaDevices: [{ SerialNumber: 'arn:aws:iam::111122223333:mfa/whatever-name', kind: 'virtual' }], accessKeys: null, passwordPresent: null } });
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
    const aws = new SimulatedAws(world([simAccount(MGMT), member], { organization: { id: 'o-abcdefghij', managementAccountId: MGMT, features: ['RootCredentialsManagement', 'RootSessions'], delegatedAdmins: [] }, responderAccountId: MGMT }));
    const sessions: string[] = [];
    const snap = await snapshotRootCredentials(state(MEMBER), {
      clients: clientsOf(aws, MEMBER),
      responder: clientsOf(aws, MGMT),
      useAssumeRoot: true,
      region: 'us-east-1',
      clock,
      recordOwnSession: async (_account, keyId) => void sessions.push(keyId),
    });
    expect(snap).toMatchObject({
      method: 'assume-root-audit',
      root: { accessKeysPresent: true, accessKeys: [{ AccessKeyId: 'AKIAMEMBER0000000001', Status: 'Active' }], signingCertificates: [{ CertificateId: 'CERT1' }], mfaEnabled: true, mfaDevices: [{ SerialNumber: 'GAHT000001', kind: 'other' }], passwordPresent: false },
      notVisible: [],
    });
    expect(sessions).toEqual([snap.ownSessionAccessKeyId]);
    expect(snap.ownSessionAccessKeyId).toMatch(/^ASIA/);
  });

  it('member account without centralized root access: says AssumeRoot was refused and reads what it can', async () => {
    const aws = new SimulatedAws(world([simAccount(MGMT), simAccount(MEMBER)], { organization: { id: 'o-abcdefghij', managementAccountId: MGMT, features: ['RootCredentialsManagement'], delegatedAdmins: [] }, responderAccountId: MGMT }));
    const snap = await snapshotRootCredentials(state(MEMBER), { clients: clientsOf(aws, MEMBER), responder: clientsOf(aws, MGMT), useAssumeRoot: true, region: 'us-east-1', clock });
    expect(snap.method).toBe('account-summary');
    expect(snap.notVisible[0]).toMatch(/^root's credentials through an AssumeRoot audit session, which was refused \(.*RootSessions.*a person checks root's keys, password and MFA devices in the console$/);
  });

  it('flags root MFA devices that are not in the configured list', async () => {
    const account = simAccount('111122223333', { root: { accessKeys: [], signingCertificates: [], mfaDevices: [{ SerialNumber: 'arn:aws:iam::111122223333:mfa/ours', kind: 'virtual', EnableDate: '2024-01-01T00:00:00Z' }, { SerialNumber: 'arn:aws:iam::111122223333:mfa/theirs', kind: 'virtual', EnableDate: '2024-03-04T09:59:00Z' }], password: true } });
    const aws = new SimulatedAws(world([account]));
    const c = clientsOf(aws, '111122223333');
    const snap = await snapshotRootCredentials(state('111122223333'), { clients: c, responder: c, useAssumeRoot: false, region: 'us-east-1', clock, expectedMfaDevices: ['arn:aws:iam::111122223333:mfa/ours'] });
    expect(snap.unexpectedMfaDevices).toEqual(['arn:aws:iam::111122223333:mfa/theirs']);
    const unconfigured = await snapshotRootCredentials(state('111122223333'), { clients: c, responder: c, useAssumeRoot: false, region: 'us-east-1', clock });
    expect(unconfigured.unexpectedMfaDevices).toEqual([]);
  });

  it('a throttled read is a TransientAwsError (the state machine retries it)', async () => {
    const aws = new SimulatedAws(world([simAccount('111122223333')]));
    aws.inject({ command: 'GetAccountSummaryCommand', error: 'ThrottlingException', times: 1 });
    await expect(snapshotRootCredentials(state('111122223333'), { clients: clientsOf(aws, '111122223333'), responder: clientsOf(aws, '111122223333'), useAssumeRoot: false, region: 'us-east-1', clock })).rejects.toMatchObject({ name: 'TransientAwsError' });
  });
});
