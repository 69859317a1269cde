import { expect } from '@jest/globals';
import { AccessDeniedException } from '@aws-sdk/client-account';
import { readAccountState } from '#functions/collect-evidence/account-state';
import { SimulatedAws } from '#drill/simulated-aws';
import { simAccount, world } from '../helpers-sim';

const MGMT = '999988887777';
const MEMBER = '444455556666';

function organization() {
  const aws = new SimulatedAws(
    world([simAccount(MGMT), simAccount(MEMBER, { name: 'workloads', email: 'root+workloads@example.com' })], {
      organization: {
        id: 'o-abcdefghij',
        managementAccountId: MGMT,
        features: ['RootCredentialsManagement', 'RootSessions'],
        delegatedAdmins: [],
      },
      responderAccountId: MGMT,
    }),
  );
  const read = () =>
    readAccountState(aws.targetClients({ accountId: MEMBER }), { responder: aws.targetClients({ accountId: MGMT }), accountId: MEMBER });
  return { aws, read };
}

describe('the member account as the management account sees it', () => {
  it('reads name, root email, status, OU and primary email', async () => {
    const { read } = organization();
    const state = await read();
    expect(state.memberAccount).toEqual({
      name: 'workloads',
      email: 'root+workloads@example.com',
      primaryEmail: 'root+workloads@example.com',
      status: 'ACTIVE',
      parents: ['ou-ab12-workloads'],
    });
    expect(state.unavailable).toEqual([]);
  });

  it('GetPrimaryEmail refused: keeps what DescribeAccount and ListParents answered, and records the refusal', async () => {
    const { aws, read } = organization();
    aws.inject({ command: 'GetPrimaryEmailCommand', error: 'AccessDeniedException', times: Infinity });
    const state = await read();
    expect(state.memberAccount).toEqual({
      name: 'workloads',
      email: 'root+workloads@example.com',
      primaryEmail: null,
      status: 'ACTIVE',
      parents: ['ou-ab12-workloads'],
    });
    expect(state.unavailable).toEqual([
      {
        what: 'member account primary email (account:GetPrimaryEmail)',
        error: expect.stringMatching(/^account:GetPrimaryEmail was refused/),
      },
    ]);
  });

  it('ListParents refused: the rest is kept, the OU is unknown (null), not "none"', async () => {
    const { aws, read } = organization();
    aws.inject({ command: 'ListParentsCommand', error: 'AccessDeniedException', times: Infinity });
    const state = await read();
    expect(state.memberAccount).toEqual({
      name: 'workloads',
      email: 'root+workloads@example.com',
      primaryEmail: 'root+workloads@example.com',
      status: 'ACTIVE',
      parents: null,
    });
    expect(state.unavailable.map((u) => u.what)).toEqual(['member account parents (organizations:ListParents)']);
  });

  it('a transient failure of one of the three is still thrown, so the state machine retries the step', async () => {
    const { aws, read } = organization();
    aws.inject({ command: 'GetPrimaryEmailCommand', error: 'TooManyRequestsException', times: 1 });
    await expect(read()).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('the simulated Account API refuses with its own exception class', async () => {
    const { aws } = organization();
    aws.inject({ command: 'GetPrimaryEmailCommand', error: 'AccessDeniedException', times: 1 });
    const refusal = await aws
      .targetClients({ accountId: MGMT })
      .account()
      .send({ constructor: { name: 'GetPrimaryEmailCommand' }, input: { AccountId: MEMBER } } as never)
      .catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(AccessDeniedException);
    expect(refusal).toMatchObject({ $fault: 'client', $metadata: { httpStatusCode: 403 } });
  });
});
