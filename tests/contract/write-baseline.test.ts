import { expect } from '@jest/globals';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { baselineObject, parseBaseline } from '#shared/config';
import { type BaselineRequest, writeBaseline } from '#functions/write-baseline/write-baseline';
import { describeMoto, itKeepsTheManifestHonest, useMoto, watchSent } from './moto';

/**
 * Custom::BaselineConfig on moto's S3: Create writes the object under the key that names its
 * SHA-256 (what every reader checks), Delete removes it, and each request is answered.
 */
describeMoto('contract: the baseline object the stack writes', () => {
  const moto = useMoto();
  const BUCKET = 'root-responder-test-config';
  const { key, body } = baselineObject({
    expectedAlternateContacts: { SECURITY: { emailAddress: 'security@example.com' } },
    expectedOrganizationId: null,
    expectedRootMfaDevices: { '111122223333': ['arn:aws:iam::111122223333:u2f/root/security-key-1'] },
  });
  const request = (RequestType: BaselineRequest['RequestType'], PhysicalResourceId?: string): BaselineRequest => ({
    RequestType,
    ResponseURL: 'https://cloudformation-custom-resource-response.example/x?sig=1',
    StackId: 'arn:aws:cloudformation:us-east-1:111122223333:stack/root-responder-test/1',
    RequestId: 'r-1',
    LogicalResourceId: 'BaselineConfig',
    ...(PhysicalResourceId ? { PhysicalResourceId } : {}),
    ResourceProperties: { Bucket: BUCKET, Key: key, Body: body },
  });

  beforeEach(async () => {
    await moto.reset();
    await moto.aws.s3Admin().send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  it('Create puts the object a reader accepts; Delete removes it; both answer SUCCESS', async () => {
    const sentNow = watchSent();
    const answers: string[] = [];
    const deps = { s3: moto.aws.s3(), respond: (_url: string, answer: string) => Promise.resolve(void answers.push(answer)) };

    const created = await writeBaseline(request('Create'), deps);
    expect(created).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `s3://${BUCKET}/${key}`, Data: { Key: key } });
    const object = await moto.aws.s3Admin().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const stored = (await object.Body?.transformToString('utf-8')) ?? '';
    expect(parseBaseline(stored, key).expectedAlternateContacts).toEqual({ SECURITY: { emailAddress: 'security@example.com' } });

    const deleted = await writeBaseline(request('Delete', `s3://${BUCKET}/${key}`), deps);
    expect(deleted.Status).toBe('SUCCESS');
    await expect(moto.aws.s3Admin().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({ name: 'NotFound' });
    expect(sentNow('PutObjectCommand')).toHaveLength(1);
    expect(sentNow('DeleteObjectCommand')).toHaveLength(1);
    expect(answers.map((a) => (JSON.parse(a) as { Status: string }).Status)).toEqual(['SUCCESS', 'SUCCESS']);
  });

  itKeepsTheManifestHonest(__filename);
});
