import { GetObjectCommand, NoSuchKey, S3ServiceException } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBaseline } from '#shared/baseline';
import { type Baseline, baselineObject, baselineOf, parseBaseline, parseStageConfig } from '#shared/config';
import { BaselineMissingError, InvalidBaselineError, TransientAwsError } from '#shared/errors';
import { PROJECT_ROOT } from '#drill/deployment';
import { SimulatedS3 } from '#drill/simulated-s3';

/**
 * The baseline (root MFA devices per account, contacts, organization) is one S3 object the stack
 * writes at deploy time under `baseline/<sha256>.json` and the functions read once per invocation.
 */
const example = parseStageConfig(JSON.parse(readFileSync(join(PROJECT_ROOT, 'config', 'example.json'), 'utf8')), 'example.json');
const BUCKET = 'root-responder-test-config';

describe('the baseline object', () => {
  it("holds the stage file's baseline in the Account API's field names, keyed by its SHA-256", () => {
    const baseline = baselineOf(example);
    expect(baseline.expectedRootMfaDevices).toEqual(example.expectedRootMfaDevices);
    expect(baseline.expectedAlternateContacts.SECURITY).toEqual({
      name: 'Security team',
      title: 'Security',
      emailAddress: 'security@example.com',
      phoneNumber: '+1-206-555-0100',
    });
    expect(baseline.expectedOrganizationId).toBeNull();
    const { key, body } = baselineObject(baseline);
    expect(key).toMatch(/^baseline\/[0-9a-f]{64}\.json$/);
    expect(parseBaseline(body, key)).toEqual(baseline);
    // Another baseline, another key: a deploy never overwrites what running functions read.
    expect(baselineObject({ ...baseline, expectedOrganizationId: 'o-a1b2c3d4e5' }).key).not.toBe(key);
  });

  it('refuses an object that is not what its key names, or not a baseline (InvalidBaselineError)', () => {
    const { key, body } = baselineObject(baselineOf(example));
    const tampered = body.replace('security-key-2', 'attacker-key');
    expect(() => parseBaseline(tampered, key)).toThrow(InvalidBaselineError);
    expect(() => parseBaseline(tampered, key)).toThrow(/does not hold what the stack wrote/);
    const notJson = baselineObject({} as Baseline);
    expect(() => parseBaseline('{oops', notJson.key.replace(/[0-9a-f]{64}/, sha('{oops')))).toThrow(/is not JSON/);
    const wrong = JSON.stringify({ expectedAlternateContacts: {}, expectedOrganizationId: null, expectedRootMfaDevices: { '12': ['x'] } });
    try {
      parseBaseline(wrong, `baseline/${sha(wrong)}.json`);
      throw new Error('expected an InvalidBaselineError');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidBaselineError);
      expect((error as InvalidBaselineError).issues).toEqual([expect.stringMatching(/^expectedRootMfaDevices\.12:/)]);
    }
  });
});

function sha(text: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(text, 'utf8').digest('hex');
}

describe('reading the baseline', () => {
  const { key, body } = baselineObject(baselineOf(example));
  const config = { BASELINE_BUCKET: BUCKET, BASELINE_OBJECT: key };

  it('reads and parses the object with one GetObject', async () => {
    const s3 = new SimulatedS3();
    s3.put(BUCKET, key, body);
    await expect(readBaseline(config, s3)).resolves.toEqual(baselineOf(example));
    expect(s3.reads).toEqual([{ bucket: BUCKET, key }]);
  });

  it('a missing object is a BaselineMissingError, whether S3 says NoSuchKey, NoSuchBucket or (a reader without ListBucket) AccessDenied', async () => {
    const s3 = new SimulatedS3();
    await expect(readBaseline(config, s3)).rejects.toMatchObject({
      name: 'BaselineMissingError',
      message: `The baseline object s3://${BUCKET}/${key} does not exist: deploy the stack again to write it`,
    });
    s3.createBucket(BUCKET);
    await expect(readBaseline(config, s3)).rejects.toThrow(BaselineMissingError);
    await expect(readBaseline(config, s3)).rejects.toThrow(/AccessDenied: it is missing, or this function's role may not read it/);
    const noSuchKey = {
      send: () => Promise.reject(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } })),
    };
    await expect(readBaseline(config, noSuchKey)).rejects.toThrow(BaselineMissingError);
  });

  it('a tampered object is an InvalidBaselineError; a throttled read a TransientAwsError (the state machine retries it)', async () => {
    const s3 = new SimulatedS3();
    s3.put(BUCKET, key, body.replace('ops@', 'attacker@'));
    await expect(readBaseline(config, s3)).rejects.toThrow(InvalidBaselineError);
    const slow = {
      send: () =>
        Promise.reject(
          new S3ServiceException({
            name: 'SlowDown',
            $fault: 'server',
            message: 'Please reduce your request rate.',
            $metadata: { httpStatusCode: 503 },
          }),
        ),
    };
    await expect(readBaseline(config, slow)).rejects.toThrow(TransientAwsError);
  });

  it('the simulated S3 answers as S3 does: NoSuchBucket, AccessDenied for a missing key, the SDK classes', async () => {
    const s3 = new SimulatedS3();
    await expect(s3.send(new GetObjectCommand({ Bucket: 'nope', Key: 'k' }))).rejects.toMatchObject({
      name: 'NoSuchBucket',
      $metadata: { httpStatusCode: 404 },
    });
    s3.createBucket('b');
    await expect(s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }))).rejects.toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    await expect(s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }))).rejects.toBeInstanceOf(S3ServiceException);
  });
});
