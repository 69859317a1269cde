import {
  AccountNotManagementOrDelegatedAdministratorException,
  ListOrganizationsFeaturesCommand,
  OrganizationNotFoundException,
  ServiceAccessNotEnabledException,
} from '@aws-sdk/client-iam';
import { postureFindings, readRootAccessPosture } from '#functions/collect-evidence/root-access-posture';
import { SimulatedAws } from '#drill/simulated-aws';
import { simAccount, world } from '../helpers-sim';

const MGMT = '999988887777';

describe('centralized root access posture', () => {
  it('lists the member accounts that still have root credentials, recording each audit session as ours', async () => {
    const withKeys = simAccount('111111111111', {
      name: 'legacy',
      root: {
        accessKeys: [{ AccessKeyId: 'AKIALEGACY0000000001', Status: 'Active', CreateDate: '2020-01-01T00:00:00Z' }],
        signingCertificates: [],
        mfaDevices: [],
        password: true,
      },
    });
    const removed = simAccount('222222222222', {
      name: 'clean',
      root: { accessKeys: [], signingCertificates: [], mfaDevices: [], password: false },
    });
    const aws = new SimulatedAws(
      world([simAccount(MGMT), withKeys, removed], {
        organization: {
          id: 'o-abcdefghij',
          managementAccountId: MGMT,
          features: ['RootCredentialsManagement', 'RootSessions'],
          delegatedAdmins: [],
        },
        responderAccountId: MGMT,
      }),
    );
    const recorded: string[] = [];
    const posture = await readRootAccessPosture(aws.targetClients({ accountId: MGMT }), MGMT, (account) =>
      Promise.resolve(void recorded.push(account)),
    );
    expect(posture).toMatchObject({
      enabled: true,
      membersChecked: 2,
      membersWithRootCredentials: [{ accountId: '111111111111', name: 'legacy', accessKeys: true, mfa: false }],
      unchecked: [],
    });
    expect(recorded.sort()).toEqual(['111111111111', '222222222222']);
    expect(postureFindings(posture).map((f) => f.title)).toEqual(['1 member account(s) still have root credentials']);
  });

  it('without centralized root access: says so, with the steps, and audits nothing', async () => {
    const aws = new SimulatedAws(
      world([simAccount(MGMT), simAccount('111111111111')], {
        organization: { id: 'o-abcdefghij', managementAccountId: MGMT, features: [], delegatedAdmins: [] },
        responderAccountId: MGMT,
      }),
    );
    const posture = await readRootAccessPosture(aws.targetClients({ accountId: MGMT }), MGMT);
    expect(posture.enabled).toBe(false);
    expect(aws.calls.some((c) => c.command === 'AssumeRootCommand')).toBe(false);
    expect(postureFindings(posture)[0]!.detail).toMatch(/IAM > Root access management > Enable/);
  });
});

describe('the simulated ListOrganizationsFeatures answers with the errors the IAM API Reference lists', () => {
  const send = (aws: SimulatedAws, accountId: string) =>
    aws.targetClients({ accountId }).iam().send(new ListOrganizationsFeaturesCommand({}));

  it('trusted access for IAM off (an organization that never enabled a feature): ServiceAccessNotEnabledException', async () => {
    const aws = new SimulatedAws(
      world([simAccount(MGMT)], {
        organization: { id: 'o-abcdefghij', managementAccountId: MGMT, features: [], delegatedAdmins: [] },
        responderAccountId: MGMT,
      }),
    );
    await expect(send(aws, MGMT)).rejects.toBeInstanceOf(ServiceAccessNotEnabledException);
    aws.world.organization!.iamTrustedAccess = true;
    await expect(send(aws, MGMT)).resolves.toMatchObject({ OrganizationId: 'o-abcdefghij', EnabledFeatures: [] });
    // Trusted access on, no feature: "not fully enabled", naming what is enabled.
    const posture = await readRootAccessPosture(aws.targetClients({ accountId: MGMT }), MGMT);
    expect(posture).toMatchObject({ enabled: false, features: [] });
    expect(posture.notAvailable).toBeUndefined();
    expect(postureFindings(posture).map((f) => f.title)).toEqual([
      'Centralized root access management is not fully enabled for the organization',
    ]);
  });

  it('a member account asking: AccountNotManagementOrDelegatedAdministratorException; no organization: OrganizationNotFoundException', async () => {
    const aws = new SimulatedAws(
      world([simAccount(MGMT), simAccount('111111111111')], {
        organization: { id: 'o-abcdefghij', managementAccountId: MGMT, features: ['RootCredentialsManagement'], delegatedAdmins: [] },
        responderAccountId: MGMT,
      }),
    );
    await expect(send(aws, '111111111111')).rejects.toBeInstanceOf(AccountNotManagementOrDelegatedAdministratorException);
    const standalone = new SimulatedAws(world([simAccount(MGMT)]));
    await expect(send(standalone, MGMT)).rejects.toBeInstanceOf(OrganizationNotFoundException);
  });
});
