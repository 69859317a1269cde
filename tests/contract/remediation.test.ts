import { expect } from '@jest/globals';
import { DeleteAlternateContactCommand, GetAlternateContactCommand, PutAlternateContactCommand } from '@aws-sdk/client-account';
import { CreateTrailCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  DeleteUserPolicyCommand,
  GetLoginProfileCommand,
  CreateRoleCommand,
  GetRoleCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  PutUserPolicyCommand,
  UpdateAssumeRolePolicyCommand,
  ListMFADevicesCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { CreateDetectorCommand, GetDetectorCommand, ListDetectorsCommand, UpdateDetectorCommand } from '@aws-sdk/client-guardduty';
import { DescribePolicyCommand, ListPoliciesForTargetCommand } from '@aws-sdk/client-organizations';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { fixedClock } from '#shared/clock';
import type { JsonObject } from '#shared/cloudtrail';
import type { ActionResult } from '#shared/contracts/action-result';
import type { TaskItemState } from '#shared/contracts/task-item';
import { runApprovedAction, type RunActionDeps } from '#functions/run-approved-action/run-approved-action';
import { QUARANTINE_POLICY_DOCUMENT, QUARANTINE_POLICY_NAME } from '#shared/remediations/quarantine';
import { denyRootScpDocument, denyRootScpName, detachDenyRootScp } from '#shared/remediations/deny-root-scp';
import { verifyHumanTask, type VerifyTaskDeps } from '#functions/verify-human-task/verify-human-task';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeImageAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ACCOUNT, describeMoto, itKeepsTheManifestHonest, MotoAws, ROOT_STAND_IN, useMoto, watchSent } from './moto';
import { PlansInS3, taskItem } from './states';

/**
 * Run Approved Action and Verify Human Task on moto: the remediations change moto's IAM, Account
 * and CloudTrail, and the verification reads them back with the calls the deployed step makes.
 * Root credential actions (member accounts) run in a stubbed AssumeRoot delete session whose IAM
 * calls reach moto for the root stand-in. Each Map item carries only its task's ref; the task's text
 * is in the assessment's plan.json in moto's S3, where the steps read it when they need it.
 */
describeMoto('contract: run approved action, verify human task', () => {
  const moto = useMoto();
  const clock = fixedClock('2024-03-04T11:00:00Z');
  const baseline = {
    alternateContacts: {
      SECURITY: { name: 'Sec Team', title: 'Security', emailAddress: 'security@acme.example', phoneNumber: '+1-206-555-0199' },
    },
  };
  let plans: PlansInS3;
  const runDeps = (accountId = ACCOUNT, member = false): RunActionDeps => ({
    clients: moto.aws.target(accountId),
    responder: moto.aws.target(),
    member,
    clock,
    baseline,
    limiters: MotoAws.noLimits(),
    taskDetails: plans.details(accountId),
  });
  const verifyDeps = (expectedOrganizationId: string | null = null): VerifyTaskDeps => ({
    clients: moto.aws.target(),
    clock,
    limiters: MotoAws.noLimits(),
    baseline: { ...baseline, expectedOrganizationId },
    taskDetails: plans.details(ACCOUNT),
  });
  /** An approved remediation's Map item; its task is in the incident's plan.json. */
  const remediation = (action: string, target: string, region = 'us-east-1', accountId = ACCOUNT) =>
    plans.item(accountId, { id: `${action}-task`, kind: 'remediation', title: action, remediation: { action, target, region } });
  /** A console task's Map item; its task is in the incident's plan.json. */
  const consoleTask = (id: string) => plans.item(ACCOUNT, { id });
  /** The Map item after Run Approved Action, as Verify Human Task receives it. */
  const ran = (item: TaskItemState, result: ActionResult): TaskItemState => ({ ...item, action: { Payload: result } });

  beforeEach(async () => {
    await moto.reset();
    plans = new PlansInS3(moto.aws, await moto.aws.evidenceBucket());
  });

  /** The attacker's admin user: a customer-managed admin policy, two active keys, optionally a console password. */
  async function attackerUser(UserName: string, password: boolean): Promise<string[]> {
    const iam = moto.aws.iamAdmin();
    await iam.send(new CreateUserCommand({ UserName }));
    const policy = await iam.send(
      new CreatePolicyCommand({
        PolicyName: `${UserName}-admin`,
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
      }),
    );
    await iam.send(new AttachUserPolicyCommand({ UserName, PolicyArn: policy.Policy!.Arn! }));
    const keys = [];
    for (let i = 0; i < 2; i++) keys.push((await iam.send(new CreateAccessKeyCommand({ UserName }))).AccessKey!.AccessKeyId!);
    if (password) await iam.send(new CreateLoginProfileCommand({ UserName, Password: 'Attacker-Chosen-1!' }));
    return keys;
  }
  const keyStatuses = async (UserName: string) =>
    ((await moto.aws.iamAdmin().send(new ListAccessKeysCommand({ UserName }))).AccessKeyMetadata ?? []).map((k) => k.Status);

  describe('quarantine an IAM user', () => {
    it('with a console password: deny-all policy, keys deactivated, password kept (reversible); verified', async () => {
      await attackerUser('tracy_stone', true);
      const item = await remediation('quarantine-iam-user', 'tracy_stone');
      const out = await runApprovedAction(item, runDeps());

      expect(out).toMatchObject({ status: 'done', action: 'quarantine-iam-user', target: 'tracy_stone' });
      expect(out.detail).toMatch(/deactivated 2 access key\(s\).*its console password is kept/);
      const policy = await moto.aws
        .iamAdmin()
        .send(new GetUserPolicyCommand({ UserName: 'tracy_stone', PolicyName: QUARANTINE_POLICY_NAME }));
      expect(JSON.parse(decodeURIComponent(policy.PolicyDocument!))).toMatchObject({
        Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }],
      });
      expect(await keyStatuses('tracy_stone')).toEqual(['Inactive', 'Inactive']);
      expect((await moto.aws.iamAdmin().send(new GetLoginProfileCommand({ UserName: 'tracy_stone' }))).LoginProfile?.UserName).toBe(
        'tracy_stone',
      );
      // The undo the report shows, run against moto, gives the user back as it was.
      expect(out.undo).toHaveLength(3);
      await moto.aws.iamAdmin().send(new DeleteUserPolicyCommand({ UserName: 'tracy_stone', PolicyName: QUARANTINE_POLICY_NAME }));
      for (const step of out.undo.slice(1)) {
        const key = /--access-key-id (\S+) --status Active/.exec(step)![1]!;
        await moto.aws.iamAdmin().send(new UpdateAccessKeyCommand({ UserName: 'tracy_stone', AccessKeyId: key, Status: 'Active' }));
      }
      expect(await keyStatuses('tracy_stone')).toEqual(['Active', 'Active']);
      await moto.aws.iamAdmin().send(
        new PutUserPolicyCommand({
          UserName: 'tracy_stone',
          PolicyName: QUARANTINE_POLICY_NAME,
          PolicyDocument: QUARANTINE_POLICY_DOCUMENT,
        }),
      );
      await runApprovedAction(item, runDeps());

      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({
        verified: true,
        reason: 'User tracy_stone has the deny-all policy and no active access key',
      });
    });

    it('with a console password, run twice: the second run is done too', async () => {
      await attackerUser('tracy_stone', true);
      await runApprovedAction(await remediation('quarantine-iam-user', 'tracy_stone'), runDeps());
      const again = await runApprovedAction(await remediation('quarantine-iam-user', 'tracy_stone'), runDeps());
      expect(again).toMatchObject({ status: 'done' });
      expect(again.detail).toMatch(/deactivated 0 access key\(s\)/);
      expect(again.undo).toEqual([`aws iam delete-user-policy --user-name tracy_stone --policy-name ${QUARANTINE_POLICY_NAME}`]);
    });

    it('without a console password, run twice: done both times', async () => {
      await attackerUser('api_only', false);
      for (let run = 0; run < 2; run++) {
        const out = await runApprovedAction(await remediation('quarantine-iam-user', 'api_only'), runDeps());
        expect(out).toMatchObject({ status: 'done' });
      }
    });

    it('verification fails while a key is active again', async () => {
      const keys = await attackerUser('tracy_stone', true);
      const item = await remediation('quarantine-iam-user', 'tracy_stone');
      const out = await runApprovedAction(item, runDeps());
      await moto.aws.iamAdmin().send(new UpdateAccessKeyCommand({ UserName: 'tracy_stone', AccessKeyId: keys[1]!, Status: 'Active' }));
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({
        verified: false,
        reason: `User tracy_stone still has active access keys: ${keys[1]}`,
      });
    });

    it('verification fails (does not throw) when the quarantine policy was removed', async () => {
      await attackerUser('tracy_stone', true);
      const item = await remediation('quarantine-iam-user', 'tracy_stone');
      const out = await runApprovedAction(item, runDeps());
      await moto.aws.iamAdmin().send(new DeleteUserPolicyCommand({ UserName: 'tracy_stone', PolicyName: QUARANTINE_POLICY_NAME }));
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({
        verified: false,
        reason: `User tracy_stone has no ${QUARANTINE_POLICY_NAME} policy`,
      });
    });
  });

  describe('the deny-all-root SCP of a member account', () => {
    it('created and attached from the management account, verified by ListPoliciesForTarget, detached again', async () => {
      const { members } = await moto.aws.createOrganization(['workload']);
      const member = members[0]!;
      const item = await remediation('attach-deny-root-scp', member, 'us-east-1', member);
      const out = await runApprovedAction(item, runDeps(member, true));
      expect(out).toMatchObject({ status: 'done' });
      expect(out.detail).toMatch(/^Attached: SCP root-responder-deny-root-/);
      const org = moto.aws.organizationsAdmin();
      const attached = await org.send(new ListPoliciesForTargetCommand({ TargetId: member, Filter: 'SERVICE_CONTROL_POLICY' }));
      const scp = attached.Policies!.find((p) => p.Name === denyRootScpName(member))!;
      const content = await org.send(new DescribePolicyCommand({ PolicyId: scp.Id! }));
      expect(JSON.parse(content.Policy!.Content!)).toEqual(JSON.parse(denyRootScpDocument(member)));
      expect(
        await verifyHumanTask(ran(item, out), { ...verifyDeps(), clients: moto.aws.target(member), responder: moto.aws.target() }),
      ).toMatchObject({
        verified: true,
      });
      // A second run: moto's DuplicatePolicyAttachmentException is "already attached".
      expect((await runApprovedAction(item, runDeps(member, true))).detail).toMatch(/^Already attached/);
      expect(await detachDenyRootScp(moto.aws.target(), member)).toMatchObject({ status: 'done' });
      const after = await org.send(new ListPoliciesForTargetCommand({ TargetId: member, Filter: 'SERVICE_CONTROL_POLICY' }));
      expect(after.Policies!.map((p) => p.Name)).not.toContain(denyRootScpName(member));
      expect(await verifyHumanTask(ran(item, out), { ...verifyDeps(), responder: moto.aws.target() })).toMatchObject({ verified: false });
    });
  });

  describe('undo what root exposed or launched in EC2', () => {
    it('revoke-security-group-ingress revokes the rule by id, verified by DescribeSecurityGroupRules', async () => {
      const ec2 = moto.aws.ec2Admin('us-east-1');
      const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web' }));
      const added = await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
        }),
      );
      const ruleId = added.SecurityGroupRules![0]!.SecurityGroupRuleId!;
      const item = await remediation('revoke-security-group-ingress', `${GroupId} ${ruleId}`);
      const out = await runApprovedAction(item, runDeps());
      expect(out).toMatchObject({ status: 'done' });
      expect(out.undo).toEqual([
        `aws ec2 authorize-security-group-ingress --group-id ${GroupId} --ip-permissions 'IpProtocol=tcp,FromPort=22,ToPort=22,Ipv6Ranges=[{CidrIpv6=::/0}]' --region us-east-1`,
      ]);
      const left = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [GroupId!] }] }));
      expect((left.SecurityGroupRules ?? []).filter((r) => !r.IsEgress)).toEqual([]);
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
    });

    it('revoke-security-group-ingress by range (no rule id recorded)', async () => {
      const ec2 = moto.aws.ec2Admin('us-east-1');
      const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'rdp', Description: 'rdp' }));
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 3389, ToPort: 3389, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        }),
      );
      const item = await remediation('revoke-security-group-ingress', `${GroupId} tcp/3389:3389/0.0.0.0/0`);
      const out = await runApprovedAction(item, runDeps());
      expect(out.detail).toMatch(/TCP port 3389 from 0\.0\.0\.0\/0/);
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
    });

    it('remove-launch-permission removes the public launch permission, verified by DescribeImageAttribute', async () => {
      const ec2 = moto.aws.ec2Admin('us-east-1');
      const { ImageId } = await ec2.send(new RegisterImageCommand({ Name: 'golden', RootDeviceName: '/dev/sda1' }));
      await ec2.send(new ModifyImageAttributeCommand({ ImageId, LaunchPermission: { Add: [{ Group: 'all' }] } }));
      const item = await remediation('remove-launch-permission', `${ImageId} all`);
      const out = await runApprovedAction(item, runDeps());
      expect(out).toMatchObject({ status: 'done' });
      const now = await ec2.send(new DescribeImageAttributeCommand({ ImageId, Attribute: 'launchPermission' }));
      expect(now.LaunchPermissions ?? []).toEqual([]);
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
    });

    it('stop-instances stops (never terminates) the instances, verified by DescribeInstances', async () => {
      const ec2 = moto.aws.ec2Admin('us-east-1');
      const launched = await ec2.send(
        new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, InstanceType: 'p2.8xlarge' }),
      );
      const id = launched.Instances![0]!.InstanceId!;
      const item = await remediation('stop-instances', id);
      const out = await runApprovedAction(item, runDeps());
      expect(out).toMatchObject({ status: 'done', undo: [`aws ec2 start-instances --instance-ids ${id} --region us-east-1`] });
      const state = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.State!.Name;
      expect(['stopping', 'stopped']).toContain(state);
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
    });
  });

  describe('re-enable GuardDuty', () => {
    it('a detector root disabled is enabled again (UpdateDetector), verified by GetDetector', async () => {
      const gd = moto.aws.guarddutyAdmin('eu-west-1');
      const { DetectorId } = await gd.send(new CreateDetectorCommand({ Enable: true }));
      await gd.send(new UpdateDetectorCommand({ DetectorId: DetectorId!, Enable: false }));
      const item = await remediation('enable-guardduty-detector', DetectorId!, 'eu-west-1');
      const out = await runApprovedAction(item, runDeps());
      expect(out).toMatchObject({
        status: 'done',
        undo: [`aws guardduty update-detector --detector-id ${DetectorId} --no-enable --region eu-west-1`],
      });
      expect((await gd.send(new GetDetectorCommand({ DetectorId: DetectorId! }))).Status).toBe('ENABLED');
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
    });

    it('a detector root deleted is created again', async () => {
      const item = await remediation('enable-guardduty-detector', 'deleted-detector', 'eu-west-1');
      const out = await runApprovedAction(item, runDeps());
      expect(out.status).toBe('done');
      const ids = (await moto.aws.guarddutyAdmin('eu-west-1').send(new ListDetectorsCommand({}))).DetectorIds!;
      expect(ids).toHaveLength(1);
      expect(out.undo).toEqual([`aws guardduty delete-detector --detector-id ${ids[0]} --region eu-west-1`]);
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
    });
  });

  describe('restore a trust policy root changed', () => {
    const original = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    const hostile = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::666666666666:root' }, Action: 'sts:AssumeRole' }],
    });
    const trustEvent = (
      eventID: string,
      eventName: string,
      type: 'Root' | 'IAMUser',
      params: JsonObject,
      eventTime: string,
    ): JsonObject => ({
      eventVersion: '1.08',
      eventID,
      eventTime,
      eventSource: 'iam.amazonaws.com',
      eventName,
      awsRegion: 'us-east-1',
      userIdentity: {
        type,
        accountId: ACCOUNT,
        arn: type === 'Root' ? `arn:aws:iam::${ACCOUNT}:root` : `arn:aws:iam::${ACCOUNT}:user/alice`,
      },
      requestParameters: params,
      recipientAccountId: ACCOUNT,
    });

    it('UpdateAssumeRolePolicy back to the document CloudTrail recorded, verified by GetRole', async () => {
      const iam = moto.aws.iamAdmin();
      await iam.send(new CreateRoleCommand({ RoleName: 'deploy', AssumeRolePolicyDocument: original }));
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'deploy', PolicyDocument: hostile }));
      moto.aws.stub(ACCOUNT, {
        events: {
          'us-east-1': [
            trustEvent(
              'create',
              'CreateRole',
              'IAMUser',
              { roleName: 'deploy', assumeRolePolicyDocument: original },
              '2024-02-01T09:00:00Z',
            ),
            trustEvent(
              'hostile',
              'UpdateAssumeRolePolicy',
              'Root',
              { roleName: 'deploy', policyDocument: hostile },
              '2024-03-04T10:00:00Z',
            ),
          ],
        },
      });
      const item = await remediation('restore-trust-policy', 'deploy');
      const out = await runApprovedAction(item, runDeps());
      expect(out).toMatchObject({ status: 'done' });
      const role = await iam.send(new GetRoleCommand({ RoleName: 'deploy' }));
      expect(JSON.parse(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!))).toEqual(JSON.parse(original));
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
    });
  });

  describe('restore an alternate contact', () => {
    beforeEach(() =>
      moto.aws.accountAdmin().send(
        new PutAlternateContactCommand({
          AlternateContactType: 'SECURITY',
          Name: 'Mallory',
          Title: 'Owner',
          EmailAddress: 'attacker@mailbox.example',
          PhoneNumber: '+1-555-0100',
        }),
      ),
    );

    it('PutAlternateContact from the baseline, verified by GetAlternateContact', async () => {
      const item = await remediation('restore-alternate-contact', 'SECURITY');
      const out = await runApprovedAction(item, runDeps());
      expect(out).toMatchObject({ status: 'done' });
      expect(
        (await moto.aws.accountAdmin().send(new GetAlternateContactCommand({ AlternateContactType: 'SECURITY' }))).AlternateContact,
      ).toMatchObject({ Name: 'Sec Team', EmailAddress: 'security@acme.example' });
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
      expect(await runApprovedAction(await remediation('restore-alternate-contact', 'BILLING'), runDeps())).toMatchObject({
        status: 'skipped',
      });
    });

    it('verification reports a contact deleted after the restore as not verified', async () => {
      const item = await remediation('restore-alternate-contact', 'SECURITY');
      const out = await runApprovedAction(item, runDeps());
      await moto.aws.accountAdmin().send(new DeleteAlternateContactCommand({ AlternateContactType: 'SECURITY' }));
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: false });
    });
  });

  it('restart a stopped trail in its home region, verified by GetTrailStatus there', async () => {
    await moto.aws.s3Admin().send(new CreateBucketCommand({ Bucket: 'trail-logs' }));
    await moto.aws.cloudtrailAdmin('eu-west-1').send(new CreateTrailCommand({ Name: 'eu-trail', S3BucketName: 'trail-logs' }));
    const item = await remediation('restart-trail', 'eu-trail', 'eu-west-1');
    const out = await runApprovedAction(item, runDeps());
    expect(out).toMatchObject({ status: 'done' });
    expect((await moto.aws.cloudtrailAdmin('eu-west-1').send(new GetTrailStatusCommand({ Name: 'eu-trail' }))).IsLogging).toBe(true);
    expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true, reason: 'Trail eu-trail is logging' });
  });

  describe('root credentials of a member account, in an AssumeRoot delete session', () => {
    let member: string;
    let root: { accessKeyIds: string[]; mfaSerials: string[] };
    beforeEach(async () => {
      member = (await moto.aws.createOrganization(['workload'])).members[0]!;
      moto.aws.organizationFeatures = ['RootCredentialsManagement', 'RootSessions'];
      root = await moto.aws.seedRoot(member, { accessKeys: 1, mfa: true, password: true });
    });

    it('delete the root password, deactivate the root MFA device, delete a root key: UserName omitted, moto changed', async () => {
      for (const [action, target] of [
        ['delete-root-password', member],
        ['deactivate-root-mfa-device', root.mfaSerials[0]!],
        ['delete-root-access-key', root.accessKeyIds[0]!],
      ] as const) {
        expect(await runApprovedAction(await remediation(action, target, 'us-east-1', member), runDeps(member, true))).toMatchObject({
          status: 'done',
          detail: expect.stringContaining('under an AssumeRoot session'),
        });
      }
      const iam = moto.aws.iamAdmin(member);
      await expect(iam.send(new GetLoginProfileCommand({ UserName: ROOT_STAND_IN }))).rejects.toMatchObject({
        name: 'NoSuchEntityException',
      });
      expect((await iam.send(new ListMFADevicesCommand({ UserName: ROOT_STAND_IN }))).MFADevices).toEqual([]);
      expect((await iam.send(new ListAccessKeysCommand({ UserName: ROOT_STAND_IN }))).AccessKeyMetadata).toEqual([]);
    });

    it('run again: already gone is done', async () => {
      await runApprovedAction(
        await remediation('delete-root-access-key', root.accessKeyIds[0]!, 'us-east-1', member),
        runDeps(member, true),
      );
      const again = await runApprovedAction(
        await remediation('delete-root-access-key', root.accessKeyIds[0]!, 'us-east-1', member),
        runDeps(member, true),
      );
      expect(again).toMatchObject({ status: 'done', detail: `Already gone: ${root.accessKeyIds[0]}.` });
    });
  });

  describe('console tasks verified by API', () => {
    it('root keys and MFA from GetAccountSummary (moto has no root: no keys, MFA off)', async () => {
      expect(await verifyHumanTask(await consoleTask('delete-root-access-keys'), verifyDeps())).toMatchObject({
        verified: true,
        reason: 'GetAccountSummary: AccountAccessKeysPresent = 0',
      });
      expect(await verifyHumanTask(await consoleTask('enable-root-mfa'), verifyDeps())).toMatchObject({ verified: false });
    });

    it('billing and organization: alternate contacts and the organization against the baseline', async () => {
      const { organizationId } = await moto.aws.createOrganization([]);
      await moto.aws.accountAdmin().send(
        new PutAlternateContactCommand({
          AlternateContactType: 'SECURITY',
          Name: 'Sec Team',
          Title: 'Security',
          EmailAddress: 'security@acme.example',
          PhoneNumber: '+1-206-555-0199',
        }),
      );
      expect(await verifyHumanTask(await consoleTask('review-billing-and-organization'), verifyDeps(organizationId))).toMatchObject({
        verified: true,
      });
      const moved = await verifyHumanTask(await consoleTask('review-billing-and-organization'), verifyDeps('o-elsewhere0'));
      expect(moved).toMatchObject({ verified: false, reason: `the account is in ${organizationId}, not o-elsewhere0` });
    });

    it('the root password change, found in CloudTrail (the LookupEvents stub)', async () => {
      moto.aws.stub(ACCOUNT, { events: { 'us-east-1': [passwordUpdated('root-pw', '2024-03-04T10:30:00Z', 'Root')] } });
      expect(await verifyHumanTask(await consoleTask('change-root-password'), verifyDeps())).toMatchObject({
        verified: true,
        reason: 'CloudTrail: root PasswordUpdated at 2024-03-04T10:30:00Z',
      });
    });

    it("the root password change on LookupEvents' second page", async () => {
      const users = Array.from({ length: 60 }, (_, i) =>
        passwordUpdated(`user-pw-${i}`, new Date(Date.parse('2024-03-04T10:40:00Z') + i * 1000).toISOString(), 'IAMUser'),
      );
      moto.aws.stub(ACCOUNT, { events: { 'us-east-1': [passwordUpdated('root-pw', '2024-03-04T10:30:00Z', 'Root'), ...users] } });
      expect(await verifyHumanTask(await consoleTask('change-root-password'), verifyDeps())).toMatchObject({ verified: true });
    });
  });

  describe("the task's own words, read from the assessment's plan.json in S3", () => {
    it('a console task no API can check: verified null, with its verification text from plan.json', async () => {
      const item = await plans.item(ACCOUNT, {
        id: 'secure-root-mailbox',
        verification: 'Confirmed by the responder (no AWS API can see the mailbox).',
      });
      const sentNow = watchSent();
      expect(await verifyHumanTask(item, verifyDeps())).toMatchObject({
        verified: null,
        reason: 'No API can see this: "Confirmed by the responder (no AWS API can see the mailbox)."',
      });
      expect(sentNow('GetObjectCommand').map((s) => [s.to, s.input['Key'], s.error])).toEqual([['moto', plans.key(ACCOUNT), undefined]]);
    });

    it('an approved action the registry does not hold is handed back with its title from plan.json', async () => {
      // Assess Incident never proposes one; an older plan might name it.
      const item = await plans.item(ACCOUNT, {
        id: 'delete-identity-provider',
        kind: 'remediation',
        title: 'Approve: delete the SAML provider',
        remediation: { action: 'delete-identity-provider', target: 'idp', region: 'us-east-1' },
      });
      const sentNow = watchSent();
      expect(await runApprovedAction(item, runDeps())).toMatchObject({
        status: 'not-implemented',
        detail: 'Running "delete-identity-provider" is not built: do it by hand (Approve: delete the SAML provider).',
      });
      expect(sentNow('GetObjectCommand').map((s) => [s.to, s.input['Key'], s.error])).toEqual([['moto', plans.key(ACCOUNT), undefined]]);
    });

    it("no plan.json in S3: moto's NoSuchKey is an EvidenceReadError (terminal: the Map's Catch records the task as failed)", async () => {
      const item = taskItem(ACCOUNT, { id: 'secure-root-mailbox' });
      await expect(verifyHumanTask(item, verifyDeps())).rejects.toMatchObject({
        name: 'EvidenceReadError',
        message: expect.stringContaining('NoSuchKey'),
      });
    });
  });

  itKeepsTheManifestHonest(__filename);
});

/** A PasswordUpdated sign-in event (shape as CloudTrail records it for root and IAM users). */
function passwordUpdated(eventID: string, eventTime: string, type: 'Root' | 'IAMUser'): JsonObject {
  return {
    eventVersion: '1.08',
    eventID,
    eventTime,
    eventSource: 'signin.amazonaws.com',
    eventName: 'PasswordUpdated',
    eventType: 'AwsConsoleSignIn',
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.20',
    userIdentity:
      type === 'Root'
        ? { type, principalId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT }
        : { type, principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${ACCOUNT}:user/${eventID}`, accountId: ACCOUNT, userName: eventID },
    responseElements: { PasswordUpdated: 'Success' },
    recipientAccountId: ACCOUNT,
  };
}
