import { postureFindings, readRootAccessPosture } from '#functions/collect-evidence/root-access-posture';
import { SimulatedAws } from '#local/simulated-aws';
import { simAccount, world } from '../helpers-sim';

const MGMT = '999988887777';

describe('centralized root access posture', () => {
  it('lists the member accounts that still have root credentials, recording each audit session as ours', async () => {
    const withKeys = simAccount('111111111111', { name: 'legacy', root: { accessKeys: [{ AccessKeyId: 'AKIALEGACY0000000001', Status: 'Active', CreateDate: '2020-01-01T00:00:00Z' }], signingCertificates: [], mfaDevices: [], password: true } });
    const removed = simAccount('222222222222', { name: 'clean', root: { accessKeys: [], signingCertificates: [], mfaDevices: [], password: false } });
    const aws = new SimulatedAws(world([simAccount(MGMT), withKeys, removed], { organization: { id: 'o-abcdefghij', managementAccountId: MGMT, features: ['RootCredentialsManagement', 'RootSessions'], delegatedAdmins: [] }, responderAccountId: MGMT }));
    const recorded: string[] = [];
    const posture = await readRootAccessPosture(aws.targetClients({ accountId: MGMT }), MGMT, async (account) => void recorded.push(account));
    expect(posture).toMatchObject({ enabled: true, membersChecked: 2, membersWithRootCredentials: [{ accountId: '111111111111', name: 'legacy', accessKeys: true, mfa: false }], unchecked: [] });
    expect(recorded.sort()).toEqual(['111111111111', '222222222222']);
    expect(postureFindings(posture).map((f) => f.title)).toEqual(['1 member account(s) still have root credentials']);
  });

  it('without centralized root access: says so, with the steps, and audits nothing', async () => {
    const aws = new SimulatedAws(world([simAccount(MGMT), simAccount('111111111111')], { organization: { id: 'o-abcdefghij', managementAccountId: MGMT, features: [], delegatedAdmins: [] }, responderAccountId: MGMT }));
    const posture = await readRootAccessPosture(aws.targetClients({ accountId: MGMT }), MGMT);
    expect(posture.enabled).toBe(false);
    expect(aws.calls.some((c) => c.command === 'AssumeRootCommand')).toBe(false);
    expect(postureFindings(posture)[0]!.detail).toMatch(/IAM > Root access management > Enable/);
  });
});
