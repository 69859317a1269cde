import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { baselineObject } from '#shared/config';
import { handler } from '#functions/write-baseline/handler';
import { type BaselineRequest, writeBaseline } from '#functions/write-baseline/write-baseline';
import { SimulatedS3 } from '#drill/simulated-s3';
import { inLocalContext } from '#drill/drill';
import type { S3Client } from '@aws-sdk/client-s3';

/** Custom::BaselineConfig: the stack writes the baseline object, and every request is answered. */
const BUCKET = 'root-responder-test-config';
const { key, body } = baselineObject({
  expectedAlternateContacts: {},
  expectedOrganizationId: null,
  expectedRootMfaDevices: { '111122223333': ['arn:aws:iam::111122223333:u2f/root/security-key-1'] },
});
const request = (
  type: BaselineRequest['RequestType'],
  props = { Bucket: BUCKET, Key: key, Body: body },
  physical?: string,
): BaselineRequest => ({
  RequestType: type,
  ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?sig=1',
  StackId: 'arn:aws:cloudformation:us-east-1:111122223333:stack/root-responder-test/1',
  RequestId: 'r-1',
  LogicalResourceId: 'BaselineConfig',
  ...(physical ? { PhysicalResourceId: physical } : {}),
  ResourceProperties: props,
});

function deps(s3 = new SimulatedS3()) {
  s3.createBucket(BUCKET);
  const responses: { url: string; body: Record<string, unknown> }[] = [];
  return {
    s3,
    responses,
    deps: {
      s3,
      respond: (url: string, text: string) =>
        Promise.resolve(void responses.push({ url, body: JSON.parse(text) as Record<string, unknown> })),
    },
  };
}

describe('write-baseline (Custom::BaselineConfig)', () => {
  it("Create writes the object and answers SUCCESS with its key, the functions' BASELINE_OBJECT", async () => {
    const { s3, responses, deps: d } = deps();
    await writeBaseline(request('Create'), d);
    expect(responses).toEqual([
      {
        url: expect.stringContaining('https://cloudformation-custom-resource-response') as unknown,
        body: {
          Status: 'SUCCESS',
          PhysicalResourceId: `s3://${BUCKET}/${key}`,
          Data: { Key: key },
          StackId: expect.any(String) as unknown,
          RequestId: 'r-1',
          LogicalResourceId: 'BaselineConfig',
        },
      },
    ]);
    const read = await s3.send(new (await import('@aws-sdk/client-s3')).GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(await read.Body!.transformToString()).toBe(body);
  });

  it('refuses a body that is not what its key names (FAILED, with the reason), and writes nothing', async () => {
    const { s3, responses, deps: d } = deps();
    await writeBaseline(request('Create', { Bucket: BUCKET, Key: key, Body: body.replace('key-1', 'key-9') }), d);
    expect(responses[0]!.body).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/^InvalidBaselineError: /) as unknown });
    expect(s3.reads).toEqual([]);
    await expect(s3.send(new (await import('@aws-sdk/client-s3')).GetObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
  });

  it('Delete removes its own object only; a failed write is answered FAILED, never left unanswered', async () => {
    const { s3, responses, deps: d } = deps();
    s3.put(BUCKET, key, body);
    await writeBaseline(request('Delete', undefined, 'root-responder-test-BaselineConfig-log-stream'), d);
    expect(responses[0]!.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'root-responder-test-BaselineConfig-log-stream' });
    await writeBaseline(request('Delete', undefined, `s3://${BUCKET}/${key}`), d);
    expect(responses[1]!.body).toMatchObject({ Status: 'SUCCESS' });
    await expect(s3.send(new (await import('@aws-sdk/client-s3')).GetObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
    await writeBaseline(request('Update', { Bucket: 'no-such-bucket', Key: key, Body: body }), d);
    expect(responses[2]!.body).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/^NoSuchBucket: /) as unknown });
  });

  it('the handler answers on the presigned URL with an empty Content-Type, and refuses a request that is not one', async () => {
    const received: { method?: string; contentType?: string | undefined; body: string }[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        received.push({ method: req.method, contentType: req.headers['content-type'], body: text });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response?sig=1`;
      const s3 = new SimulatedS3();
      s3.createBucket(BUCKET);
      await inLocalContext({ s3: s3 as unknown as S3Client }, () => handler({ ...request('Update'), ResponseURL: url }));
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ method: 'PUT', contentType: '' });
      expect(JSON.parse(received[0]!.body) as unknown).toMatchObject({
        Status: 'SUCCESS',
        Data: { Key: key },
        LogicalResourceId: 'BaselineConfig',
      });
    } finally {
      server.close();
    }
    await expect(handler({ RequestType: 'Create' })).rejects.toMatchObject({ name: 'InvalidEventError' });
  });
});
