import { expect } from '@jest/globals';
import {
  CreateBucketCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetPublicAccessBlockCommand,
  PutBucketAclCommand,
} from '@aws-sdk/client-s3';
import {
  DeletePublicAccessBlockCommand as DeleteAccountPublicAccessBlockCommand,
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
} from '@aws-sdk/client-s3-control';
import { fixedClock } from '#shared/clock';
import type { ActionResult } from '#shared/contracts/action-result';
import type { TaskItemState } from '#shared/contracts/task-item';
import { runApprovedAction, type RunActionDeps } from '#functions/run-approved-action/run-approved-action';
import { verifyHumanTask, type VerifyTaskDeps } from '#functions/verify-human-task/verify-human-task';
import { ACCOUNT, describeMoto, itKeepsTheManifestHonest, MotoAws, useMoto } from './moto';
import { PlansInS3 } from './states';

/**
 * The S3 exposure undos on moto: the target account's bucket (in its own region, eu-west-1) and its
 * account-level Block Public Access (S3 Control), changed by Run Approved Action and read back by
 * Verify Human Task with the calls the deployed steps make.
 */
describeMoto('contract: S3 exposure undos (restore Block Public Access, revert a bucket ACL)', () => {
  const moto = useMoto();
  const clock = fixedClock('2024-03-04T11:00:00Z');
  let plans: PlansInS3;
  const runDeps = (): RunActionDeps => ({
    clients: moto.aws.target(ACCOUNT),
    responder: moto.aws.target(),
    member: false,
    clock,
    baseline: { alternateContacts: {} },
    limiters: MotoAws.noLimits(),
    taskDetails: plans.details(ACCOUNT),
  });
  const verifyDeps = (): VerifyTaskDeps => ({
    clients: moto.aws.target(),
    clock,
    limiters: MotoAws.noLimits(),
    baseline: { alternateContacts: {}, expectedOrganizationId: null },
    taskDetails: plans.details(ACCOUNT),
  });
  const remediation = (action: string, target: string, region: string) =>
    plans.item(ACCOUNT, { id: `${action}-task`, kind: 'remediation', title: action, remediation: { action, target, region } });
  const ran = (item: TaskItemState, result: ActionResult): TaskItemState => ({ ...item, action: { Payload: result } });
  const ALL = 'BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets';
  const on = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
  const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

  beforeEach(async () => {
    await moto.reset();
    plans = new PlansInS3(moto.aws, await moto.aws.evidenceBucket());
  });

  async function bucket(Bucket: string) {
    const s3 = moto.aws.targetS3Admin('eu-west-1');
    await s3.send(new CreateBucketCommand({ Bucket, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    return s3;
  }

  it("restore-public-access-block, bucket: no configuration (moto's NoSuchPublicAccessBlockConfiguration) -> all four on; verified", async () => {
    const s3 = await bucket('acme-exports');
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'acme-exports' }));
    const item = await remediation('restore-public-access-block', `bucket:acme-exports ${ALL} default`, 'eu-west-1');
    expect(await verifyHumanTask(ran(item, { status: 'done', detail: '' } as ActionResult), verifyDeps())).toMatchObject({
      verified: false,
    });
    const out = await runApprovedAction(item, runDeps());
    expect(out).toMatchObject({
      status: 'done',
      undo: ['aws s3api delete-public-access-block --bucket acme-exports --region eu-west-1'],
    });
    expect((await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'acme-exports' }))).PublicAccessBlockConfiguration).toEqual(on);
    expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
  });

  it('restore-public-access-block, account (S3 Control with the account id): all four on; verified', async () => {
    await moto.aws.s3controlAdmin('us-east-1').send(new DeleteAccountPublicAccessBlockCommand({ AccountId: ACCOUNT }));
    const item = await remediation('restore-public-access-block', `account ${ALL} default`, 'us-east-1');
    const out = await runApprovedAction(item, runDeps());
    expect(out).toMatchObject({
      status: 'done',
      undo: [`aws s3control delete-public-access-block --account-id ${ACCOUNT} --region us-east-1`],
    });
    const now = await moto.aws.s3controlAdmin('us-east-1').send(new GetAccountPublicAccessBlockCommand({ AccountId: ACCOUNT }));
    expect(now.PublicAccessBlockConfiguration).toEqual(on);
    expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
  });

  it('revert-bucket-acl removes AllUsers READ and keeps the owner and the other grants; verified by GetBucketAcl', async () => {
    const s3 = await bucket('acme-backups');
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'acme-backups' }));
    const { Owner } = await s3.send(new GetBucketAclCommand({ Bucket: 'acme-backups' }));
    const ownerGrant = { Grantee: { Type: 'CanonicalUser' as const, ID: Owner!.ID! }, Permission: 'FULL_CONTROL' as const };
    const logGrant = {
      Grantee: { Type: 'Group' as const, URI: 'http://acs.amazonaws.com/groups/s3/LogDelivery' },
      Permission: 'WRITE' as const,
    };
    await s3.send(
      new PutBucketAclCommand({
        Bucket: 'acme-backups',
        AccessControlPolicy: { Owner, Grants: [ownerGrant, logGrant, { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' }] },
      }),
    );
    const item = await remediation('revert-bucket-acl', 'acme-backups AllUsers:READ', 'eu-west-1');
    const out = await runApprovedAction(item, runDeps());
    expect(out.status).toBe('done');
    expect(out.detail).toMatch(/AllUsers READ; kept the owner and 2 other grants/);
    expect(out.undo).toHaveLength(1);
    const after = await s3.send(new GetBucketAclCommand({ Bucket: 'acme-backups' }));
    expect(after.Grants!.map((g) => `${g.Grantee!.URI ?? g.Grantee!.ID} ${g.Permission}`).sort()).toEqual(
      [`${Owner!.ID} FULL_CONTROL`, 'http://acs.amazonaws.com/groups/s3/LogDelivery WRITE'].sort(),
    );
    expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
  });

  itKeepsTheManifestHonest(__filename);
});
