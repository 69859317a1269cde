import { expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetCallerIdentityCommand, AssumeRootCommand } from '@aws-sdk/client-sts';
import { DeleteAccessKeyCommand, GetLoginProfileCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { loadRootTaskPolicy, rootTaskSessionDecision, type RootTaskPolicyName } from '#drill/iam-policy';
import { COMMAND_ACTIONS, rootSessionRequest, SimulatedAws } from '#drill/simulated-aws';
import { simAccount, world } from '../helpers-sim';

const MGMT = '999988887777';
const MEMBER = '444455556666';

function org(): SimulatedAws {
  const member = simAccount(MEMBER, {
    root: {
      accessKeys: [{ AccessKeyId: 'AKIAMEMBERROOT000001', Status: 'Active', CreateDate: '2024-03-04T09:00:00Z' }],
      signingCertificates: [{ CertificateId: 'CERTMEMBERROOT01', Status: 'Active', UploadDate: '2024-01-01T00:00:00Z' }],
      mfaDevices: [
        { SerialNumber: `arn:aws:iam::${MEMBER}:mfa/root-account-mfa-device`, kind: 'virtual', EnableDate: '2024-01-01T00:00:00Z' },
      ],
      password: true,
    },
    iamUsers: [
      {
        UserName: 'bob',
        CreateDate: '2024-01-01T00:00:00Z',
        accessKeys: [{ AccessKeyId: 'AKIABOB0000000000001', Status: 'Active', CreateDate: '2024-01-01T00:00:00Z' }],
        loginProfile: true,
      },
    ],
    trails: [{ Name: 'org-trail', HomeRegion: 'us-east-1', IsMultiRegionTrail: true, IsLogging: false }],
    detectors: { 'us-east-1': { DetectorId: 'd-1', Status: 'ENABLED' } },
  });
  return new SimulatedAws(
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
}

async function session(aws: SimulatedAws, policy: RootTaskPolicyName) {
  const out = await aws.client({ region: 'us-east-1' }).send(
    new AssumeRootCommand({
      TargetPrincipal: MEMBER,
      TaskPolicyArn: { arn: `arn:aws:iam::aws:policy/root-task/${policy}` },
      DurationSeconds: 900,
    }),
  );
  return aws.client({ region: 'us-east-1', credentials: { accessKeyId: out.Credentials!.AccessKeyId! } });
}

/** Enough input for any command the simulated account answers (the simulator matches commands by class name). */
const INPUT = {
  AccessKeyId: 'AKIAMEMBERROOT000001',
  CertificateId: 'CERTMEMBERROOT01',
  SerialNumber: `arn:aws:iam::${MEMBER}:mfa/root-account-mfa-device`,
  PolicyName: 'quarantine',
  PolicyDocument: '{}',
  Status: 'Inactive',
  Name: 'org-trail',
  DetectorId: 'd-1',
  AlternateContactType: 'SECURITY',
  TargetPrincipal: '111122223333',
  TaskPolicyArn: { arn: 'arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials' },
  RoleArn: `arn:aws:iam::${MEMBER}:role/root-responder-read`,
  RoleSessionName: 'root-responder',
};
const commandNamed = (name: string, input: object) =>
  new {
    [name]: class {
      constructor(readonly input: object) {}
    },
  }[name]!(input);

async function outcome(policy: RootTaskPolicyName, command: string, userName?: string): Promise<string> {
  const iam = await session(org(), policy);
  try {
    await iam.send(commandNamed(command, { ...INPUT, ...(userName ? { UserName: userName } : {}) }));
    return 'allowed';
  } catch (error) {
    return (error as Error).name;
  }
}

/**
 * What the simulated account allowed in a root session before it read AWS's documents (its
 * hand-written list), per policy, for the calls it answers without UserName. The documents allow
 * exactly these: no call is allowed or refused differently (GetCallerIdentity needs no permission).
 */
const ALLOWED_BEFORE: Record<'IAMAuditRootUserCredentials' | 'IAMDeleteRootUserCredentials', string[]> = {
  IAMAuditRootUserCredentials: [
    'GetCallerIdentityCommand',
    'GetAccountSummaryCommand',
    'ListMFADevicesCommand',
    'ListAccessKeysCommand',
    'ListSigningCertificatesCommand',
    'GetLoginProfileCommand',
  ],
  IAMDeleteRootUserCredentials: [
    'GetCallerIdentityCommand',
    'ListMFADevicesCommand',
    'ListAccessKeysCommand',
    'ListSigningCertificatesCommand',
    'GetLoginProfileCommand',
    'DeleteAccessKeyCommand',
    'DeleteSigningCertificateCommand',
    'DeleteLoginProfileCommand',
    'DeactivateMFADeviceCommand',
  ],
};

describe('an AssumeRoot session in the simulated account is judged by AWS root-task policy documents', () => {
  it.each(['IAMAuditRootUserCredentials', 'IAMDeleteRootUserCredentials'] as const)(
    '%s: every command it answers, with and without UserName, is allowed exactly as the document (and the old hand-written list) allow it',
    async (policy) => {
      const allowed: string[] = [];
      for (const command of Object.keys(COMMAND_ACTIONS)) {
        for (const userName of [undefined, 'bob', 'root']) {
          const result = await outcome(policy, command, userName);
          expect({ command, userName, result }).toEqual({ command, userName, result: expect.stringMatching(/^(allowed|AccessDenied)$/) });
          // Ties the simulator to the evaluator on the document, for every call (not circular: the list below pins the outcome).
          const request = rootSessionRequest(command, userName ? { ...INPUT, UserName: userName } : INPUT, MEMBER, 'us-east-1')!;
          const byDocument = command === 'GetCallerIdentityCommand' || rootTaskSessionDecision(loadRootTaskPolicy(policy), request).allowed;
          expect({ command, userName, allowed: result === 'allowed' }).toEqual({ command, userName, allowed: byDocument });
          if (result === 'allowed' && !userName) allowed.push(command);
          // A command that names a user (UserName) is refused whatever it is, except the two that take none.
          if (userName && result === 'allowed') expect(['GetCallerIdentityCommand', 'GetAccountSummaryCommand']).toContain(command);
        }
      }
      expect(allowed.sort()).toEqual([...ALLOWED_BEFORE[policy]].sort());
    },
    30_000,
  );

  it('refuses as AWS does, naming the action, the resource and the session policy', async () => {
    const audit = await session(org(), 'IAMAuditRootUserCredentials');
    await expect(audit.send(new DeleteAccessKeyCommand({ AccessKeyId: 'AKIAMEMBERROOT000001' }))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: `User: arn:aws:iam::${MEMBER}:root is not authorized to perform: iam:DeleteAccessKey on resource: arn:aws:iam::${MEMBER}:root with an explicit deny in a session policy`,
      $metadata: { httpStatusCode: 403 },
    });
    const del = await session(org(), 'IAMDeleteRootUserCredentials');
    // UserName "root" names an IAM user called root: the NotResource statement denies it.
    await expect(del.send(new ListAccessKeysCommand({ UserName: 'root' }))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: `User: arn:aws:iam::${MEMBER}:root is not authorized to perform: iam:ListAccessKeys on resource: arn:aws:iam::${MEMBER}:user/root with an explicit deny in a session policy`,
    });
  });

  it('GetCallerIdentity answers in a root session although no root-task policy lists it (AWS: it needs no permission)', async () => {
    const iam = await session(org(), 'IAMDeleteRootUserCredentials');
    await expect(iam.send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({
      Account: MEMBER,
      Arn: `arn:aws:iam::${MEMBER}:root`,
    });
  });

  it('difference from the old list: an IAMCreateRootUserPassword session is now opened and judged by its document (before: refused as not a root-task policy)', async () => {
    const iam = await session(org(), 'IAMCreateRootUserPassword');
    await expect(iam.send(new GetLoginProfileCommand({}))).resolves.toMatchObject({ LoginProfile: {} });
    await expect(iam.send(new ListAccessKeysCommand({}))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringContaining('iam:ListAccessKeys on resource: arn:aws:iam::444455556666:root'),
    });
  });

  it('every command the simulated account answers has its IAM action (so no session call goes unjudged)', () => {
    const source = readFileSync(join(__dirname, '..', '..', 'drill', 'simulated-aws.ts'), 'utf8');
    const dispatched = [...source.matchAll(/case '(\w+Command)':/g)].map((m) => m[1]!);
    expect(dispatched.length).toBeGreaterThan(30);
    expect(dispatched.filter((c) => !COMMAND_ACTIONS[c])).toEqual([]);
  });
});
