import { expect } from '@jest/globals';
import {
  CreateBucketCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetPublicAccessBlockCommand,
  PutBucketAclCommand,
  PutPublicAccessBlockCommand,
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
import type { TargetClients } from '#shared/clients';
import { SimulatedAws } from '#drill/simulated-aws';
import { simAccount, world } from '../helpers-sim';

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

  it('parity: the simulated account answers as moto does (error names, the ACL keys the code reads)', async () => {
    const record = (eventName: string, requestParameters: Record<string, unknown>, awsRegion = 'eu-west-1') => ({
      eventSource: 's3.amazonaws.com',
      eventName,
      awsRegion,
      eventTime: '2024-03-04T09:00:00Z',
      requestParameters,
    });
    const aws = new SimulatedAws(
      world([simAccount(ACCOUNT, { events: { 'eu-west-1': [record('CreateBucket', { bucketName: 'acme-exports' })] } })]),
    );
    const sim = aws.targetClients({ accountId: ACCOUNT });
    const real = await bucket('acme-exports');
    const name = (p: Promise<unknown>) =>
      p.then(
        () => 'no error',
        (e: Error) => e.name,
      );
    const both = async (send: (c: TargetClients) => Promise<unknown>) => [await name(send(moto.aws.target())), await name(send(sim))];
    // A new bucket: AWS turns all four blocks on (S3 User Guide: Block Public Access on for every new bucket since April 2023);
    // moto 5.2.1 leaves it unset. The simulator is held to AWS.
    expect(await name(real.send(new GetPublicAccessBlockCommand({ Bucket: 'acme-exports' })))).toBe('NoSuchPublicAccessBlockConfiguration');
    expect(
      (await sim.s3('eu-west-1').send(new GetPublicAccessBlockCommand({ Bucket: 'acme-exports' }))).PublicAccessBlockConfiguration,
    ).toEqual(on);
    await real.send(new DeletePublicAccessBlockCommand({ Bucket: 'acme-exports' }));
    aws.account(ACCOUNT).events['eu-west-1']!.push(record('DeleteBucketPublicAccessBlock', { bucketName: 'acme-exports' }));
    expect(await both((c) => c.s3('eu-west-1').send(new GetPublicAccessBlockCommand({ Bucket: 'acme-exports' })))).toEqual([
      'NoSuchPublicAccessBlockConfiguration',
      'NoSuchPublicAccessBlockConfiguration',
    ]);
    expect(await both((c) => c.s3('eu-west-1').send(new GetBucketAclCommand({ Bucket: 'nobody-has-this' })))).toEqual([
      'NoSuchBucket',
      'NoSuchBucket',
    ]);
    // An empty configuration is refused, by moto and by AWS (awslabs/aws-sdk-rust#819: an all-false request sent empty failed).
    expect(
      await both((c) =>
        c.s3('eu-west-1').send(new PutPublicAccessBlockCommand({ Bucket: 'acme-exports', PublicAccessBlockConfiguration: {} })),
      ),
    ).toEqual(['InvalidRequest', 'InvalidRequest']);
    await moto.aws.s3controlAdmin('us-east-1').send(new DeleteAccountPublicAccessBlockCommand({ AccountId: ACCOUNT }));
    expect(await both((c) => c.s3control('us-east-1').send(new GetAccountPublicAccessBlockCommand({ AccountId: ACCOUNT })))).toEqual([
      'NoSuchPublicAccessBlockConfiguration',
      'NoSuchPublicAccessBlockConfiguration',
    ]);
    const acls = [
      await moto.aws
        .target()
        .s3('eu-west-1')
        .send(new GetBucketAclCommand({ Bucket: 'acme-exports' })),
      await sim.s3('eu-west-1').send(new GetBucketAclCommand({ Bucket: 'acme-exports' })),
    ].map((a) => ({
      keys: Object.keys(a)
        .filter((k) => k !== '$metadata')
        .sort(),
      grants: a.Grants!.map((g) => [g.Grantee!.Type, g.Permission]),
    }));
    expect(acls[1]).toEqual(acls[0]);
  });

  itKeepsTheManifestHonest(__filename);
});
