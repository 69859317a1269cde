import { expect } from '@jest/globals';
import { CreateKeyCommand, GetKeyPolicyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetBucketPolicyCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { fixedClock } from '#shared/clock';
import type { JsonObject } from '#shared/cloudtrail';
import type { ActionResult } from '#shared/contracts/action-result';
import type { TaskItemState } from '#shared/contracts/task-item';
import { runApprovedAction, type RunActionDeps } from '#functions/run-approved-action/run-approved-action';
import { verifyHumanTask, type VerifyTaskDeps } from '#functions/verify-human-task/verify-human-task';
import { ACCOUNT, describeMoto, itKeepsTheManifestHonest, MotoAws, useMoto } from './moto';
import { PlansInS3 } from './states';

/**
 * The bucket and key policy undos on moto: Run Approved Action puts back the policy CloudTrail
 * recorded (the LookupEvents stub answers by event id), deletes a policy the bucket did not have, or
 * leaves a policy nobody recorded to a person; Verify Human Task reads it back with GetBucketPolicy /
 * GetKeyPolicy, and moto's own answers (NoSuchBucketPolicy, the key policy text) are what the steps parse.
 */
describeMoto('contract: bucket and key policy undos', () => {
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
  const remediation = (action: string, target: string, region = 'us-east-1') =>
    plans.item(ACCOUNT, { id: `${action}-task`, kind: 'remediation', title: action, remediation: { action, target, region } });
  const ran = (item: TaskItemState, result: ActionResult): TaskItemState => ({ ...item, action: { Payload: result } });

  const statement = (Sid: string, AWS: string | undefined, Resource: string) => ({
    Sid,
    Effect: 'Allow',
    Principal: AWS ? { AWS } : '*',
    Action: Resource.startsWith('arn:aws:s3') ? 's3:GetObject' : 'kms:*',
    Resource,
  });
  const bucketDoc = (bucket: string, ...who: (string | undefined)[]) => ({
    Version: '2012-10-17',
    Statement: who.map((w, i) => statement(`S${i}`, w, `arn:aws:s3:::${bucket}/*`)),
  });
  const event = (
    eventID: string,
    eventTime: string,
    region: string,
    eventSource: string,
    eventName: string,
    requestParameters: JsonObject,
  ): JsonObject => ({
    eventVersion: '1.09',
    eventID,
    eventTime,
    eventSource,
    eventName,
    awsRegion: region,
    userIdentity: { type: 'Root', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root` },
    requestParameters,
    recipientAccountId: ACCOUNT,
  });

  beforeEach(async () => {
    await moto.reset();
    plans = new PlansInS3(moto.aws, await moto.aws.evidenceBucket());
  });

  it("puts back the bucket policy CloudTrail recorded before root's public one; verified by GetBucketPolicy", async () => {
    const s3 = moto.aws.targetS3Admin('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: 'reports' }));
    const before = bucketDoc('reports', `arn:aws:iam::${ACCOUNT}:root`);
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: 'reports',
        Policy: JSON.stringify(bucketDoc('reports', `arn:aws:iam::${ACCOUNT}:root`, undefined)),
      }),
    );
    moto.aws.stub(ACCOUNT, {
      events: {
        'us-east-1': [
          event('e1', '2024-03-04T10:00:00Z', 'us-east-1', 's3.amazonaws.com', 'PutBucketPolicy', {
            bucketName: 'reports',
            bucketPolicy: before,
          }),
        ],
      },
    });
    const item = await remediation('revert-bucket-policy', 'reports policy:e1 *');
    const out = await runApprovedAction(item, runDeps());
    expect(out).toMatchObject({ status: 'done', detail: expect.stringContaining('as CloudTrail recorded it (event e1)') });
    expect(out.undo[0]).toMatch(
      /^aws s3api put-bucket-policy --bucket reports --policy '.*"Principal":"\*".*' --region us-east-1 \(puts root's policy back: re-exposes it to everyone \(\*\)\)$/,
    );
    expect(JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: 'reports' }))).Policy!)).toEqual(before);
    expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({
      verified: true,
      reason: 'GetBucketPolicy: S3 bucket reports in us-east-1 grants neither everyone (*) nor a foreign account',
    });
  });

  it('a bucket that had none before: its policy deleted; moto then answers NoSuchBucketPolicy, which verifies', async () => {
    const s3 = moto.aws.targetS3Admin('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: 'archive' }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'archive', Policy: JSON.stringify(bucketDoc('archive', undefined)) }));
    const item = await remediation('revert-bucket-policy', 'archive none:d1 *');
    const out = await runApprovedAction(item, runDeps());
    expect(out).toMatchObject({ status: 'done', detail: expect.stringMatching(/^Deleted the policy root set on S3 bucket archive/) });
    await expect(s3.send(new GetBucketPolicyCommand({ Bucket: 'archive' }))).rejects.toMatchObject({ name: 'NoSuchBucketPolicy' });
    expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({
      verified: true,
      reason: 'GetBucketPolicy: S3 bucket archive in us-east-1 has no policy',
    });
  });

  it('nothing recorded: the foreign grant is left for a person (skipped, nothing changed), and not verified', async () => {
    const s3 = moto.aws.targetS3Admin('us-east-1');
    await s3.send(new CreateBucketCommand({ Bucket: 'exports' }));
    const rootPolicy = JSON.stringify(bucketDoc('exports', 'arn:aws:iam::444455556666:root'));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'exports', Policy: rootPolicy }));
    const item = await remediation('revert-bucket-policy', 'exports unrecorded 444455556666');
    const out = await runApprovedAction(item, runDeps());
    expect(out).toMatchObject({ status: 'skipped', undo: [] });
    expect(out.detail).toMatch(
      /^CloudTrail recorded no policy of S3 bucket exports before root's: nothing was changed\. .*still grants account 444455556666/,
    );
    expect(JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: 'exports' }))).Policy!)).toEqual(JSON.parse(rootPolicy));
    expect(await verifyHumanTask(ran(item, { ...out, status: 'done' }), verifyDeps())).toMatchObject({
      verified: false,
      reason: 'GetBucketPolicy: S3 bucket exports in us-east-1 still grants account 444455556666',
    });
  });

  it("puts back the key policy CloudTrail recorded, in the key's region (PolicyName default); verified by GetKeyPolicy", async () => {
    const kms = moto.aws.kmsAdmin('eu-west-1');
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const own = { Version: '2012-10-17', Statement: [statement('Admin', `arn:aws:iam::${ACCOUNT}:root`, '*')] };
    const opened = {
      ...own,
      Statement: [...own.Statement, { ...statement('Partner', 'arn:aws:iam::444455556666:root', '*'), Action: 'kms:Decrypt' }],
    };
    await kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify(opened) }));
    moto.aws.stub(ACCOUNT, {
      events: {
        'eu-west-1': [
          event('k1', '2024-03-04T10:00:00Z', 'eu-west-1', 'kms.amazonaws.com', 'PutKeyPolicy', {
            keyId,
            policyName: 'default',
            policy: JSON.stringify(own),
          }),
        ],
      },
    });
    const item = await remediation('revert-key-policy', `${keyId} policy:k1 444455556666`, 'eu-west-1');
    const out = await runApprovedAction(item, runDeps());
    expect(out).toMatchObject({ status: 'done' });
    expect(out.undo[0]).toMatch(
      new RegExp(`^aws kms put-key-policy --key-id ${keyId} --policy-name default --policy '.*444455556666.*' --region eu-west-1`),
    );
    expect(JSON.parse((await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))).Policy!)).toEqual(own);
    expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
  });

  itKeepsTheManifestHonest(__filename);
});
