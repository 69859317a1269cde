import { PutAlternateContactCommand } from '@aws-sdk/client-account';
import { CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateDetectorCommand } from '@aws-sdk/client-guardduty';
import { ListRootsCommand } from '@aws-sdk/client-organizations';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { readAccountState, stateFindings } from '#functions/collect-evidence/account-state';
import { postureFindings, readRootAccessPosture } from '#functions/collect-evidence/root-access-posture';
import { ACCOUNT, describeMoto, itKeepsTheManifestHonest, sentNamed, useMoto, watchSent } from './moto';

/**
 * The account state evidence collection reads, against moto: alternate contacts (unset is a fact),
 * organization membership, trails per region with their status, GuardDuty per enabled region, the
 * member account as the management account sees it, and the organization's root-access posture.
 * Contact and account information, the primary email and the enabled regions come from stubs
 * (moto has only the alternate-contact part of the Account API).
 */
describeMoto('contract: account state', () => {
  const moto = useMoto();
  const security = { Name: 'Sec Team', Title: 'Security', EmailAddress: 'security@acme.example', PhoneNumber: '+1-206-555-0199' };

  beforeEach(async () => {
    await moto.reset();
    moto.aws.stub(ACCOUNT, { regions: ['us-east-1', 'eu-west-1'] });
    await moto.aws.accountAdmin().send(new PutAlternateContactCommand({ AlternateContactType: 'SECURITY', ...security }));
    await moto.aws.s3Admin().send(new CreateBucketCommand({ Bucket: 'trail-logs' }));
  });

  async function trail(name: string, region: string, multiRegion: boolean, logging: boolean): Promise<void> {
    await moto.aws
      .cloudtrailAdmin(region)
      .send(new CreateTrailCommand({ Name: name, S3BucketName: 'trail-logs', IsMultiRegionTrail: multiRegion }));
    if (logging) await moto.aws.cloudtrailAdmin(region).send(new StartLoggingCommand({ Name: name }));
  }

  it('alternate contacts: the set one as moto stores it, the unset ones null (ResourceNotFoundException), compared with the baseline', async () => {
    const state = await readAccountState(moto.aws.target());

    expect(state.alternateContacts).toEqual({
      SECURITY: { name: 'Sec Team', title: 'Security', emailAddress: 'security@acme.example', phoneNumber: '+1-206-555-0199' },
      BILLING: null,
      OPERATIONS: null,
    });
    expect(
      sentNamed('GetAlternateContactCommand')
        .filter((s) => s.error)
        .map((s) => s.error),
    ).toEqual(['ResourceNotFoundException', 'ResourceNotFoundException']);
    expect(state.unavailable).toEqual([]);
    expect(state.regions).toEqual(['us-east-1', 'eu-west-1']);
    expect(state.contactInformation).toMatchObject({ FullName: 'Example Corp' });
    expect(state.accountInformation).toEqual({ name: `account-${ACCOUNT}`, createdAt: '2019-06-01T00:00:00.000Z' });
    const findings = stateFindings(state, {
      alternateContacts: {
        SECURITY: { name: 'Sec Team', title: 'Security', emailAddress: 'soc@acme.example', phoneNumber: '+1-206-555-0199' },
        BILLING: { emailAddress: 'billing@acme.example' },
      },
      expectedOrganizationId: null,
    });
    expect(findings.map((f) => f.id)).toEqual(
      expect.arrayContaining(['alternate-contact-security-differs', 'alternate-contact-billing-differs']),
    );
  });

  it('organization membership: none (AWSOrganizationsNotInUseException), then the organization moto holds', async () => {
    expect((await readAccountState(moto.aws.target())).organization).toBeNull();
    expect(sentNamed('DescribeOrganizationCommand').slice(-1)[0]!.error).toBe('AWSOrganizationsNotInUseException');
    const { organizationId } = await moto.aws.createOrganization([]);
    const state = await readAccountState(moto.aws.target());
    expect(state.organization).toEqual({ id: organizationId, managementAccountId: ACCOUNT });
    expect(stateFindings(state, { alternateContacts: {}, expectedOrganizationId: 'o-elsewhere0' }).map((f) => f.id)).toContain(
      'organization-membership',
    );
  });

  it('GuardDuty in every enabled region: the detector moto holds in us-east-1, none in eu-west-1', async () => {
    const detectorId = (await moto.aws.guarddutyAdmin('us-east-1').send(new CreateDetectorCommand({ Enable: true }))).DetectorId!;
    const state = await readAccountState(moto.aws.target());
    expect(state.detectors).toEqual([
      { region: 'eu-west-1', detectorId: null, status: null },
      { region: 'us-east-1', detectorId, status: 'ENABLED' },
    ]);
    expect(stateFindings(state, { alternateContacts: {}, expectedOrganizationId: null }).map((f) => f.id)).toEqual([
      'no-trail',
      'guardduty-eu-west-1',
    ]);
  });

  it('a multi-region trail homed in another region is seen from us-east-1, and its status read in its home region', async () => {
    await trail('org-trail', 'eu-west-1', true, false);
    const state = await readAccountState(moto.aws.target());
    expect(state.trails).toEqual([{ name: 'org-trail', homeRegion: 'eu-west-1', multiRegion: true, logging: false }]);
    expect(stateFindings(state, { alternateContacts: {}, expectedOrganizationId: null }).map((f) => f.id)).toContain(
      'trail-not-logging-org-trail',
    );
  });

  it('trails per region: a stopped single-region trail in eu-west-1 is listed, with its finding', async () => {
    await trail('main', 'us-east-1', true, true);
    await trail('eu-only', 'eu-west-1', false, false);
    const state = await readAccountState(moto.aws.target());
    expect(state.trails).toEqual(
      expect.arrayContaining([
        { name: 'main', homeRegion: 'us-east-1', multiRegion: true, logging: true },
        { name: 'eu-only', homeRegion: 'eu-west-1', multiRegion: false, logging: false },
      ]),
    );
    expect(stateFindings(state, { alternateContacts: {}, expectedOrganizationId: null }).map((f) => f.id)).toContain(
      'trail-not-logging-eu-only',
    );
  });

  describe('organization mode, a member account', () => {
    let member: string;
    let members: string[];
    beforeEach(async () => {
      ({ members } = await moto.aws.createOrganization(['workload', 'analytics']));
      member = members[0]!;
      moto.aws.stub(member, { regions: ['us-east-1'] });
    });

    it('the member as the management account sees it: DescribeAccount and ListParents from moto, the primary email', async () => {
      const rootId = (await moto.aws.organizationsAdmin().send(new ListRootsCommand({}))).Roots![0]!.Id!;
      const state = await readAccountState(moto.aws.target(member), { responder: moto.aws.target(), accountId: member });
      expect(state.memberAccount).toEqual({
        name: 'workload',
        email: 'workload@example.com',
        primaryEmail: `root+${member}@example.com`,
        status: 'ACTIVE',
        parents: [rootId],
      });
      // The member's own view of its organization, through its own (read role's) clients.
      expect(state.organization).toMatchObject({ managementAccountId: ACCOUNT });
    });

    it('a refused GetPrimaryEmail leaves the rest of the member description', async () => {
      moto.aws.stub(member, { primaryEmailRefused: true });
      const state = await readAccountState(moto.aws.target(member), { responder: moto.aws.target(), accountId: member });
      expect(state.memberAccount).toMatchObject({ name: 'workload', email: 'workload@example.com', primaryEmail: null, status: 'ACTIVE' });
    });

    it('root-access posture: features, every active member under an audit session (GetAccountSummary on moto)', async () => {
      const sentNow = watchSent();
      moto.aws.organizationFeatures = ['RootCredentialsManagement', 'RootSessions'];
      const posture = await readRootAccessPosture(moto.aws.target(), ACCOUNT);
      expect(posture).toMatchObject({
        enabled: true,
        features: ['RootCredentialsManagement', 'RootSessions'],
        membersChecked: members.length,
        membersWithRootCredentials: [],
        unchecked: [],
      });
      // ListAccounts listed the management account too; only members get a session.
      expect(
        sentNow('AssumeRootCommand')
          .map((s) => s.input['TargetPrincipal'])
          .sort(),
      ).toEqual([...members].sort());
      expect(sentNow('GetAccountSummaryCommand')).toHaveLength(members.length);
    });

    it('root-access posture with RootSessions off: a finding, and no session opened', async () => {
      const sentNow = watchSent();
      moto.aws.organizationFeatures = ['RootCredentialsManagement'];
      const posture = await readRootAccessPosture(moto.aws.target(), ACCOUNT);
      expect(posture).toMatchObject({ enabled: false, membersChecked: 0 });
      expect(postureFindings(posture).map((f) => f.id)).toEqual(['centralized-root-access-off']);
      expect(sentNow('AssumeRootCommand')).toHaveLength(0);
    });
  });

  itKeepsTheManifestHonest(__filename);
});
