import { ListAccessKeysCommand, ListSigningCertificatesCommand } from '@aws-sdk/client-iam';
import { fixedClock } from '#shared/clock';
import { containRootCredentials, type ContainDeps } from '#functions/contain-root-credentials/contain-root-credentials';
import { ACCOUNT, describeMoto, itKeepsTheManifestHonest, MotoAws, ROOT_STAND_IN, useMoto, watchSent } from './moto';
import { rootSnapshot } from '../helpers-state';
import { workflowState } from './states';

/**
 * Contain Root Credentials on moto: ListOrganizationsFeatures and AssumeRoot are stubbed (moto has
 * neither); the delete session's IAM calls reach moto for the root stand-in, without UserName from
 * the step, and moto's answers decide what the step reports.
 */
describeMoto('contract: contain root credentials', () => {
  const moto = useMoto();
  const clock = fixedClock('2024-03-04T10:06:00Z');
  let member: string;
  let root: { accessKeyIds: string[]; certificateIds: string[] };
  const deps = (): ContainDeps => ({
    responder: moto.aws.target(),
    member: true,
    region: 'us-east-1',
    clock,
    timer: MotoAws.virtualTimer(),
  });
  const remaining = async () => ({
    keys: ((await moto.aws.iamAdmin(member).send(new ListAccessKeysCommand({ UserName: ROOT_STAND_IN }))).AccessKeyMetadata ?? []).map(
      (k) => k.AccessKeyId,
    ),
    certificates: (
      (await moto.aws.iamAdmin(member).send(new ListSigningCertificatesCommand({ UserName: ROOT_STAND_IN }))).Certificates ?? []
    ).map((c) => c.CertificateId),
  });
  /** The state after the snapshot step saw root's keys and certificate. */
  const afterSnapshot = () =>
    workflowState(member, {
      snapshot: {
        Payload: rootSnapshot({
          accountId: member,
          method: 'assume-root-audit',
          root: {
            accessKeysPresent: true,
            accessKeys: root.accessKeyIds.map((AccessKeyId) => ({ AccessKeyId, Status: 'Active', CreateDate: null })),
            signingCertificatesPresent: true,
            signingCertificates: root.certificateIds.map((CertificateId) => ({ CertificateId, Status: 'Active' })),
          },
        }),
      },
    });

  beforeEach(async () => {
    await moto.reset();
    member = (await moto.aws.createOrganization(['workload'])).members[0]!;
    moto.aws.organizationFeatures = ['RootCredentialsManagement', 'RootSessions'];
    root = await moto.aws.seedRoot(member, { accessKeys: 2, signingCertificate: true });
  });

  it('deletes every root access key and signing certificate under a delete session, found by listing without UserName', async () => {
    const sentNow = watchSent();
    const out = await containRootCredentials(workflowState(member), deps());

    expect(out).toMatchObject({ status: 'done', blockedBy: null });
    expect(out.actions.map((a) => [a.action, a.target, a.status]).sort()).toEqual(
      [
        ...root.accessKeyIds.map((k) => ['delete-root-access-key', k, 'done']),
        ...root.certificateIds.map((c) => ['delete-root-signing-certificate', c, 'done']),
      ].sort(),
    );
    expect(out.before!.accessKeys.map((k) => k.AccessKeyId).sort()).toEqual([...root.accessKeyIds].sort());
    expect(await remaining()).toEqual({ keys: [], certificates: [] });
    expect(sentNow('AssumeRootCommand')[0]!.input).toEqual({
      TargetPrincipal: member,
      TaskPolicyArn: { arn: 'arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials' },
      DurationSeconds: 900,
    });
    expect(sentNow('DeleteAccessKeyCommand').every((s) => s.input['UserName'] === undefined && s.to === 'moto-root-stand-in')).toBe(true);
  });

  it('deletes what the snapshot saw first, and lists again for anything newer', async () => {
    const out = await containRootCredentials(afterSnapshot(), deps());
    expect(out).toMatchObject({ status: 'done' });
    expect(out.actions.filter((a) => a.status === 'done')).toHaveLength(3);
    expect(await remaining()).toEqual({ keys: [], certificates: [] });
  });

  it('a second run: everything already gone, status done', async () => {
    await containRootCredentials(afterSnapshot(), deps());
    const again = await containRootCredentials(afterSnapshot(), deps());
    expect(again).toMatchObject({ status: 'done', blockedBy: null });
    expect(again.actions.map((a) => a.status)).toEqual(['already-gone', 'already-gone', 'already-gone']);
  });

  it('RootSessions off: skipped, naming the missing feature; nothing deleted', async () => {
    moto.aws.organizationFeatures = ['RootCredentialsManagement'];
    const out = await containRootCredentials(afterSnapshot(), deps());
    expect(out).toMatchObject({ status: 'skipped', blockedBy: 'centralized root access: RootSessions not enabled for the organization' });
    expect(await remaining()).toEqual({ keys: root.accessKeyIds, certificates: root.certificateIds });
  });

  it('the management account itself: skipped (no IAM principal can delete its root credentials), nothing sent', async () => {
    const sentNow = watchSent();
    const out = await containRootCredentials(workflowState(ACCOUNT), { ...deps(), member: false });
    expect(out.status).toBe('skipped');
    expect([...sentNow('AssumeRootCommand'), ...sentNow('ListOrganizationsFeaturesCommand')]).toEqual([]);
  });

  itKeepsTheManifestHonest(__filename);
});
