import { LookupEventsCommand, CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { GetKeyPolicyCommand, KMSClient, NotFoundException, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import {
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  PutBucketPolicyCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '#shared/clock';
import type { JsonObject } from '#shared/cloudtrail';
import { AccessDeniedError } from '#shared/errors';
import { exposureFindings, parsePolicyTarget, undoTarget } from '#shared/exposure';
import { classifyWindow } from '#shared/findings';
import { RateLimiters, virtualTimer } from '#shared/rate-limit';
import { defaultTriageContext } from '#shared/triage';
import { revertBucketPolicy, revertKeyPolicy } from '#shared/remediations/resource-policies';
import { catalogEntry } from '#shared/remediations/index';
import type { RunContext, VerifyContext } from '#shared/remediations/types';
import { emailText } from '#shared/text';
import { COMMAND_ACTIONS, SimulatedAws } from '#drill/simulated-aws';
import { sdkTargetClients } from '../helpers-mock';
import { simAccount, world } from '../helpers-sim';

/**
 * The bucket and key policy undos: the target the exposure names (what the resource had before, as
 * CloudTrail recorded it in the window), the task a person does when nothing was recorded, and the
 * entries against the SDK's own clients, mocked (S3 names an absent policy NoSuchBucketPolicy, KMS an
 * absent key NotFoundException).
 */
const ACCOUNT = '246813579024';
const s3 = mockClient(S3Client);
const kms = mockClient(KMSClient);
const cloudtrail = mockClient(CloudTrailClient);
const clients = sdkTargetClients();
const base = {
  accountId: ACCOUNT,
  region: 'us-east-1',
  clients,
  responder: clients,
  clock: fixedClock('2024-03-04T11:00:00Z'),
  baseline: { alternateContacts: {} },
  limiters: new RateLimiters(2, virtualTimer()),
};
const runCtx = (target: string, region = 'us-east-1'): RunContext => ({
  ...base,
  region,
  target,
  member: false,
  rootSession: () => Promise.reject(new Error('no root session here')),
});
const verifyCtx = (target: string, region = 'us-east-1'): VerifyContext => ({ ...base, region, target, ran: { detail: '' } });
const s3Error = (name: string, status = 404) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });

const own = { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };
const open = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };
const partner = { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::444455556666:root' }, Action: 'kms:Decrypt', Resource: '*' };
const doc = (...Statement: object[]) => ({ Version: '2012-10-17', Statement });
const text = (...Statement: object[]) => JSON.stringify(doc(...Statement));

function record(
  eventID: string,
  eventTime: string,
  eventSource: string,
  eventName: string,
  requestParameters: JsonObject,
  region = 'us-east-1',
): JsonObject {
  return {
    eventVersion: '1.09',
    eventID,
    eventTime,
    eventSource,
    eventName,
    awsRegion: region,
    sourceIPAddress: '111.111.111.111',
    userIdentity: { type: 'Root', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root` },
    requestParameters,
    recipientAccountId: ACCOUNT,
  };
}
const putBucket = (id: string, at: string, bucket: string, policy: object) =>
  record(id, at, 's3.amazonaws.com', 'PutBucketPolicy', { bucketName: bucket, bucketPolicy: policy, policy: [''] });
const putKey = (id: string, at: string, key: string, policy: object) =>
  record(id, at, 'kms.amazonaws.com', 'PutKeyPolicy', { keyId: key, policyName: 'default', policy: JSON.stringify(policy) }, 'eu-west-1');
const exposuresOf = (records: JsonObject[]) =>
  exposureFindings(
    records.map((r) => ({ id: String(r['eventID']), at: String(r['eventTime']), region: String(r['awsRegion']), record: r })),
    { accountId: ACCOUNT },
  ).findings;
const lookupAnswer = (r: JsonObject) => ({ Events: [{ EventId: String(r['eventID']), CloudTrailEvent: JSON.stringify(r) }] });

beforeEach(() => {
  s3.reset();
  kms.reset();
  cloudtrail.reset();
});

describe('bucket and key policy exposures name their undo target', () => {
  it('an earlier PutBucketPolicy in the window: the target names its event, and whom root opened the bucket to', () => {
    const [f] = exposuresOf([
      putBucket('e1', '2024-03-04T10:00:00Z', 'b', doc(own)),
      putBucket('e2', '2024-03-04T10:05:00Z', 'b', doc(own, open)),
    ]);
    expect(f!.exposure.undo).toEqual({ kind: 'revert-bucket-policy', reversible: true, status: 'proposed' });
    expect(undoTarget(f!.exposure)).toBe('b policy:e1 *');
    expect(parsePolicyTarget('b policy:e1 *')).toEqual({ id: 'b', before: { state: 'policy', event: 'e1' }, grantees: ['*'] });
  });

  it('a DeleteBucketPolicy before: the bucket had none (none:<event>); nothing recorded: unrecorded; a failed put is not "before"', () => {
    const deleted = exposuresOf([
      record('d1', '2024-03-04T10:00:00Z', 's3.amazonaws.com', 'DeleteBucketPolicy', { bucketName: 'c' }),
      putBucket('e3', '2024-03-04T10:05:00Z', 'c', doc(open)),
    ]);
    expect(undoTarget(deleted[0]!.exposure)).toBe('c none:d1 *');
    expect(deleted[0]!.detail).toContain('The bucket had no policy before');
    const failed = { ...putBucket('f1', '2024-03-04T10:00:00Z', 'x', doc(own)), errorCode: 'AccessDenied' };
    const unrecorded = exposuresOf([failed, putBucket('e4', '2024-03-04T10:05:00Z', 'x', doc(partner))]);
    expect(unrecorded.map((f) => undoTarget(f.exposure))).toEqual(['x unrecorded 444455556666']);
  });

  it('root opening the bucket twice: both undos go back to the policy before the first, never to an open one', () => {
    const found = exposuresOf([
      putBucket('e1', '2024-03-04T10:00:00Z', 'b', doc(own)),
      putBucket('e2', '2024-03-04T10:05:00Z', 'b', doc(own, open)),
      putBucket('e3', '2024-03-04T10:06:00Z', 'b', doc(own, partner)),
    ]);
    expect(found.map((f) => undoTarget(f.exposure))).toEqual(['b policy:e1 *', 'b policy:e1 444455556666']);
    const unrecorded = exposuresOf([
      putBucket('e2', '2024-03-04T10:05:00Z', 'x', doc(open)),
      putBucket('e3', '2024-03-04T10:06:00Z', 'x', doc(partner)),
    ]);
    expect(unrecorded.map((f) => undoTarget(f.exposure))).toEqual(['x unrecorded *', 'x unrecorded 444455556666']);
  });

  it('KMS: an earlier PutKeyPolicy is what the key had before', () => {
    const [f] = exposuresOf([
      putKey('k1', '2024-03-04T10:00:00Z', 'key-1', doc(own)),
      putKey('k2', '2024-03-04T10:05:00Z', 'key-1', doc(own, partner)),
    ]);
    expect(undoTarget(f!.exposure)).toBe('key-1 policy:k1 444455556666');
  });

  it('is proposed for approval; with nothing recorded, a task for a person with the policy root set shown, pretty-printed', () => {
    const hostile = doc({ ...partner, Sid: 'see https://evil.example/x\u202e' });
    const { remediations } = classifyWindow(
      [
        { region: 'us-east-1', query: 'root', record: putBucket('e1', '2024-03-04T10:00:00Z', 'b', doc(own)) },
        { region: 'us-east-1', query: 'root', record: putBucket('e2', '2024-03-04T10:05:00Z', 'b', doc(own, open)) },
        { region: 'us-east-1', query: 'root', record: putBucket('e3', '2024-03-04T10:06:00Z', 'p', hostile) },
      ],
      { ...defaultTriageContext(), exposure: { accountId: ACCOUNT } },
    );
    const [restore, byHand] = remediations;
    expect(restore).toMatchObject({ id: 'revert-bucket-policy-b', action: 'revert-bucket-policy', target: 'b policy:e1 *' });
    expect(restore!.undo).toMatch(
      /^Put back the policy S3 bucket b had before root's change, as CloudTrail recorded it \(event e1\), in us-east-1 \(reversible: the undo puts root's policy back, which opens it to everyone \(\*\) again\): S3 bucket b policy set to everyone/,
    );
    expect(restore!.steps).toBeUndefined();
    expect(byHand).toMatchObject({
      id: 'make-bucket-policy-private-p',
      action: 'revert-bucket-policy',
      target: 'p unrecorded 444455556666',
    });
    expect(byHand!.steps![3]).toBe(`The policy root set (event e3):\n${JSON.stringify(hostile, null, 2)}`);
    // The email's rule: one line, the URL defanged, the direction control gone.
    expect(emailText(byHand!.steps![3])).toMatch(
      /^The policy root set \(event e3\): \{ "Version": "2012-10-17",.*https\[:\]\/\/evil\.example\/x /,
    );
    expect(catalogEntry('revert-bucket-policy')?.reversible).toBe(true);
    expect(catalogEntry('revert-key-policy')?.permissions.verify).toEqual(['kms:GetKeyPolicy']);
  });
});

describe('revert-bucket-policy (mocked S3 and CloudTrail)', () => {
  const before = putBucket('e1', '2024-03-04T10:00:00Z', 'b', doc(own));

  it('puts back the policy the named event recorded; the undo puts root’s back and says it re-exposes', async () => {
    s3.on(GetBucketPolicyCommand).resolves({ Policy: text(own, open) });
    cloudtrail.on(LookupEventsCommand).resolves(lookupAnswer(before));
    const out = await revertBucketPolicy.run(runCtx('b policy:e1 *'));
    expect(out.status).toBe('done');
    expect(cloudtrail.commandCalls(LookupEventsCommand)[0]!.args[0].input.LookupAttributes).toEqual([
      { AttributeKey: 'EventId', AttributeValue: 'e1' },
    ]);
    expect(s3.commandCalls(PutBucketPolicyCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: 'b', Policy: text(own) }]);
    expect(out.undo).toEqual([
      `aws s3api put-bucket-policy --bucket b --policy '${text(own, open)}' --region us-east-1 (puts root's policy back: re-exposes it to everyone (*))`,
    ]);
  });

  it('an event id naming another bucket is not taken: nothing changes, a person is asked', async () => {
    s3.on(GetBucketPolicyCommand).resolves({ Policy: text(open) });
    cloudtrail.on(LookupEventsCommand).resolves(lookupAnswer(putBucket('e1', '2024-03-04T10:00:00Z', 'other', doc(own))));
    const out = await revertBucketPolicy.run(runCtx('b policy:e1 *'));
    expect(out.status).toBe('skipped');
    expect(out.detail).toMatch(/^CloudTrail no longer holds event e1.*nothing was changed.*still grants everyone \(\*\)/);
    expect(s3.commandCalls(PutBucketPolicyCommand)).toHaveLength(0);
  });

  it('the bucket had none before: DeleteBucketPolicy', async () => {
    s3.on(GetBucketPolicyCommand).resolves({ Policy: text(open) });
    const out = await revertBucketPolicy.run(runCtx('c none:d1 *'));
    expect(out.status).toBe('done');
    expect(out.detail).toMatch(/Deleted the policy root set on S3 bucket c .*had none before \(event d1\)/);
    expect(s3.commandCalls(DeleteBucketPolicyCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: 'c' }]);
  });

  it('nothing recorded and still open to the foreign account: skipped, the policy shown, nothing changed', async () => {
    s3.on(GetBucketPolicyCommand).resolves({ Policy: text(partner) });
    const out = await revertBucketPolicy.run(runCtx('p unrecorded 444455556666'));
    expect(out.status).toBe('skipped');
    expect(out.detail).toContain(`still grants account 444455556666 (GetBucketPolicy); a person replaces its policy`);
    expect(out.detail).toContain(text(partner));
    expect(s3.commandCalls(PutBucketPolicyCommand)).toHaveLength(0);
    expect(s3.commandCalls(DeleteBucketPolicyCommand)).toHaveLength(0);
  });

  it('a person already made it private, or the bucket has no policy (NoSuchBucketPolicy): done, nothing changed; verified', async () => {
    s3.on(GetBucketPolicyCommand)
      .resolvesOnce({ Policy: text(own) })
      .rejects(s3Error('NoSuchBucketPolicy'));
    const out = await revertBucketPolicy.run(runCtx('p unrecorded 444455556666'));
    expect(out).toEqual({
      status: 'done',
      detail: 'S3 bucket p in us-east-1 no longer grants account 444455556666 (GetBucketPolicy): nothing to change.',
      undo: [],
    });
    expect(await revertBucketPolicy.verify(verifyCtx('p unrecorded 444455556666'))).toEqual({
      verified: true,
      reason: 'GetBucketPolicy: S3 bucket p in us-east-1 has no policy',
    });
  });

  it('verify: still public is not verified; refused (AccessDenied) is a typed error', async () => {
    s3.on(GetBucketPolicyCommand)
      .resolvesOnce({ Policy: text(own, open) })
      .rejects(s3Error('AccessDenied', 403));
    expect(await revertBucketPolicy.verify(verifyCtx('b policy:e1 *'))).toEqual({
      verified: false,
      reason: 'GetBucketPolicy: S3 bucket b in us-east-1 still grants everyone (*)',
    });
    await expect(revertBucketPolicy.verify(verifyCtx('b policy:e1 *'))).rejects.toBeInstanceOf(AccessDeniedError);
  });
});

describe('revert-key-policy (mocked KMS and CloudTrail)', () => {
  it('puts the recorded policy back in the key’s region (PolicyName default); verified once no foreign account is named', async () => {
    kms
      .on(GetKeyPolicyCommand)
      .resolvesOnce({ Policy: text(own, partner), PolicyName: 'default' })
      .resolves({ Policy: text(own), PolicyName: 'default' });
    cloudtrail.on(LookupEventsCommand).resolves(lookupAnswer(putKey('k1', '2024-03-04T10:00:00Z', 'key-1', doc(own))));
    const out = await revertKeyPolicy.run(runCtx('key-1 policy:k1 444455556666', 'eu-west-1'));
    expect(out.status).toBe('done');
    expect(kms.commandCalls(PutKeyPolicyCommand).map((c) => c.args[0].input)).toEqual([
      { KeyId: 'key-1', PolicyName: 'default', Policy: text(own) },
    ]);
    expect(out.undo![0]).toMatch(
      /^aws kms put-key-policy --key-id key-1 --policy-name default --policy '.*' --region eu-west-1 \(puts root's policy back: re-exposes it to account 444455556666\)$/,
    );
    expect(await revertKeyPolicy.verify(verifyCtx('key-1 policy:k1 444455556666', 'eu-west-1'))).toMatchObject({ verified: true });
  });

  it('a key that no longer exists (NotFoundException): nothing to revert, verified', async () => {
    kms.on(GetKeyPolicyCommand).rejects(new NotFoundException({ message: 'gone', $metadata: { httpStatusCode: 400 } }));
    expect(await revertKeyPolicy.run(runCtx('key-1 unrecorded 444455556666', 'eu-west-1'))).toMatchObject({ status: 'done', undo: [] });
    expect(await revertKeyPolicy.verify(verifyCtx('key-1 unrecorded 444455556666', 'eu-west-1'))).toMatchObject({ verified: true });
  });
});

describe("the simulated account's bucket and key policies, from its CloudTrail records", () => {
  const records = [
    putBucket('e1', '2024-03-04T10:05:00Z', 'b', doc(own, open)),
    putBucket('e0', '2024-03-04T10:00:00Z', 'b', doc(own)), // arrives later, happened earlier
    record('c1', '2024-03-04T10:01:00Z', 's3.amazonaws.com', 'CreateBucket', { bucketName: 'empty' }),
    putKey('k1', '2024-03-04T10:02:00Z', `arn:aws:kms:eu-west-1:${ACCOUNT}:key/key-1`, doc(own, partner)),
    { ...putBucket('f1', '2024-03-04T10:06:00Z', 'b', doc(open)), errorCode: 'AccessDenied' },
  ];
  const sim = () =>
    new SimulatedAws(
      world([
        simAccount(ACCOUNT, { events: { 'us-east-1': records.filter((r) => r['awsRegion'] === 'us-east-1'), 'eu-west-1': [records[3]!] } }),
      ]),
      virtualTimer(),
    );

  it('applies the records in time order (failed calls change nothing) and answers with S3 and KMS error codes', async () => {
    const aws = sim();
    const target = aws.targetClients({ accountId: ACCOUNT });
    expect(JSON.parse((await target.s3('us-east-1').send(new GetBucketPolicyCommand({ Bucket: 'b' }))).Policy!)).toEqual(doc(own, open));
    await expect(target.s3('us-east-1').send(new GetBucketPolicyCommand({ Bucket: 'empty' }))).rejects.toMatchObject({
      name: 'NoSuchBucketPolicy',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(target.s3('us-east-1').send(new GetBucketPolicyCommand({ Bucket: 'nope' }))).rejects.toMatchObject({
      name: 'NoSuchBucket',
    });
    await expect(target.s3('us-east-1').send(new PutBucketPolicyCommand({ Bucket: 'b', Policy: 'not json' }))).rejects.toMatchObject({
      name: 'MalformedPolicy',
    });
    expect(
      JSON.parse((await target.kms('eu-west-1').send(new GetKeyPolicyCommand({ KeyId: 'key-1', PolicyName: 'default' }))).Policy!),
    ).toEqual(doc(own, partner));
    await expect(target.kms('us-east-1').send(new GetKeyPolicyCommand({ KeyId: 'key-1' }))).rejects.toBeInstanceOf(NotFoundException);
  });

  it('the undos run and verify against it with only the actions they declare', async () => {
    const aws = sim();
    const clients = aws.targetClients({ accountId: ACCOUNT });
    const ctx = { ...base, clients, responder: clients };
    const before = aws.calls.length;
    const out = await revertBucketPolicy.run({
      ...ctx,
      target: 'b policy:e0 *',
      member: false,
      rootSession: () => Promise.reject(new Error('no')),
    });
    expect(out.status).toBe('done');
    expect(aws.calls.slice(before).map((c) => COMMAND_ACTIONS[c.command])).toEqual([
      's3:GetBucketPolicy',
      'cloudtrail:LookupEvents',
      's3:PutBucketPolicy',
    ]);
    expect(aws.policyState(ACCOUNT, 'us-east-1').buckets['b']).toBe(text(own));
    expect(await revertBucketPolicy.verify({ ...ctx, target: 'b policy:e0 *', ran: { detail: out.detail } })).toMatchObject({
      verified: true,
    });
    expect(aws.changes.map((c) => `${c.change} ${c.target}`)).toEqual(['s3-put-bucket-policy b']);
  });
});
