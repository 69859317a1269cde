import { expect } from '@jest/globals';
import { CreateUserCommand, CreateVirtualMFADeviceCommand, EnableMFADeviceCommand } from '@aws-sdk/client-iam';
import { fixedClock } from '#shared/clock';
import { OwnSessionStore } from '#shared/own-session-store';
import { snapshotRootCredentials } from '#functions/snapshot-root-credentials/snapshot-root-credentials';
import { ACCOUNT, describeMoto, itKeepsTheManifestHonest, ROOT_STAND_IN, sent, sentNamed, useMoto } from './moto';
import { workflowState } from './states';

/**
 * Snapshot Root Credentials on moto: the account-summary path (standalone or management account)
 * reads GetAccountSummary and ListVirtualMFADevices from moto; the AssumeRoot path (a member
 * account) opens a stubbed audit session whose IAM calls reach moto for the root stand-in.
 */
describeMoto('contract: snapshot root credentials', () => {
  const moto = useMoto();
  const clock = fixedClock('2024-03-04T10:05:00Z');

  /** IAM users with virtual MFA devices: none of them is root's. */
  async function usersWithVirtualMfa(users: number, devicesEach: number): Promise<void> {
    const iam = moto.aws.iamAdmin();
    for (let u = 0; u < users; u++) {
      const UserName = `engineer-${u}`;
      await iam.send(new CreateUserCommand({ UserName }));
      for (let d = 0; d < devicesEach; d++) {
        const device = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: `${UserName}-mfa-${d}` }));
        await iam.send(
          new EnableMFADeviceCommand({
            UserName,
            SerialNumber: device.VirtualMFADevice!.SerialNumber!,
            AuthenticationCode1: '123456',
            AuthenticationCode2: '654321',
          }),
        );
      }
    }
  }

  beforeEach(() => moto.reset());

  it("standalone: GetAccountSummary and the assigned virtual MFA devices; IAM users' devices are not taken for root's", async () => {
    await usersWithVirtualMfa(3, 1);
    const out = await snapshotRootCredentials(workflowState(ACCOUNT), {
      clients: moto.aws.target(),
      responder: moto.aws.target(),
      useAssumeRoot: false,
      region: 'us-east-1',
      clock,
    });

    expect(out).toMatchObject({ method: 'account-summary', accountId: ACCOUNT, ownSessionAccessKeyId: null });
    // moto cannot give root keys or MFA (no root user): the summary's zeros and keys are read as AWS sends them.
    expect(out.root).toEqual({
      accessKeysPresent: false,
      accessKeys: null,
      signingCertificatesPresent: false,
      signingCertificates: null,
      mfaEnabled: false,
      mfaDevices: [],
      passwordPresent: null,
    });
    const [list] = sentNamed('ListVirtualMFADevicesCommand');
    expect(list!.input).toEqual({ AssignmentStatus: 'Assigned' });
    const devices = (list!.output!['VirtualMFADevices'] as { User?: { Arn?: string } }[]).map((d) => d.User?.Arn);
    expect(devices).toHaveLength(3);
    expect(devices.every((arn) => /:user\/engineer-\d$/.test(arn ?? ''))).toBe(true);
  });

  it('standalone: follows every ListVirtualMFADevices page (104 devices: 100, then 4)', async () => {
    await usersWithVirtualMfa(13, 8);
    const from = sent.length;
    await snapshotRootCredentials(workflowState(ACCOUNT), {
      clients: moto.aws.target(),
      responder: moto.aws.target(),
      useAssumeRoot: false,
      region: 'us-east-1',
      clock,
    });
    const pages = sent.slice(from).filter((s) => s.command === 'ListVirtualMFADevicesCommand');
    expect(pages[0]!.output).toMatchObject({ IsTruncated: true, Marker: expect.any(String) });
    expect(pages[1]?.input).toMatchObject({ AssignmentStatus: 'Assigned', Marker: pages[0]!.output!['Marker'] });
  });

  describe('member account, AssumeRoot audit session', () => {
    let member: string;
    let store: OwnSessionStore;

    beforeEach(async () => {
      member = (await moto.aws.createOrganization(['workload'])).members[0]!;
      moto.aws.organizationFeatures = ['RootCredentialsManagement', 'RootSessions'];
      store = new OwnSessionStore(moto.aws.documentClient(), (await moto.aws.createTables()).incidents);
    });

    it('lists root keys, certificate, MFA device and password without UserName, and records the session as ours', async () => {
      const root = await moto.aws.seedRoot(member, { accessKeys: 1, signingCertificate: true, mfa: true, password: true });
      const out = await snapshotRootCredentials(workflowState(member), {
        clients: moto.aws.target(member),
        responder: moto.aws.target(),
        useAssumeRoot: true,
        region: 'us-east-1',
        clock,
        recordOwnSession: (accountId, keyId, expiresAt) => store.recordOwnSession(accountId, keyId, expiresAt),
      });

      expect(out).toMatchObject({ method: 'assume-root-audit', notVisible: [] });
      expect(out.root.accessKeys!.map((k) => k.AccessKeyId)).toEqual(root.accessKeyIds);
      expect(out.root.accessKeys![0]).toMatchObject({ Status: 'Active', CreateDate: expect.stringMatching(/^\d{4}-/) });
      expect(out.root.signingCertificates!.map((c) => c.CertificateId)).toEqual(root.certificateIds);
      expect(out.root.mfaDevices).toEqual([{ SerialNumber: root.mfaSerials[0], kind: 'virtual' }]);
      expect(out.root.passwordPresent).toBe(true);
      const [assume] = sentNamed('AssumeRootCommand').slice(-1);
      expect(assume!.input).toEqual({
        TargetPrincipal: member,
        TaskPolicyArn: { arn: 'arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials' },
        DurationSeconds: 900,
      });
      // The step itself never names a user under AssumeRoot (the stand-in's name is added on the way to moto).
      expect(sent.filter((s) => s.to === 'moto-root-stand-in').every((s) => s.input['UserName'] === undefined)).toBe(true);
      expect(await store.isOwnSession(member, out.ownSessionAccessKeyId!)).toBe(true);
      expect(ROOT_STAND_IN).toBe('root-stand-in');
    });

    it('a root without a password: passwordPresent false (GetLoginProfile answers NoSuchEntityException)', async () => {
      await moto.aws.seedRoot(member, { accessKeys: 0, password: false });
      const out = await snapshotRootCredentials(workflowState(member), {
        clients: moto.aws.target(member),
        responder: moto.aws.target(),
        useAssumeRoot: true,
        region: 'us-east-1',
        clock,
      });
      expect(out.root.passwordPresent).toBe(false);
    });
  });

  itKeepsTheManifestHonest(__filename);
});
