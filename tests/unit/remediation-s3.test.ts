import {
  GetBucketAclCommand,
  GetPublicAccessBlockCommand,
  NoSuchBucket,
  PutBucketAclCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  NoSuchPublicAccessBlockConfiguration,
  PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '#shared/clock';
import { AccessDeniedError, AwsCallError } from '#shared/errors';
import { classifyWindow } from '#shared/findings';
import { knownSources } from '#shared/known-sources';
import { RateLimiters, virtualTimer } from '#shared/rate-limit';
import { restorePublicAccessBlock, revertBucketAcl } from '#shared/remediations/s3-exposure';
import type { RunContext, VerifyContext } from '#shared/remediations/types';
import type { JsonObject } from '#shared/cloudtrail';
import { COMMAND_ACTIONS, SimulatedAws } from '#drill/simulated-aws';
import { fixture } from '../helpers';
import { simAccount, world } from '../helpers-sim';
import { meta, sdkTargetClients } from '../helpers-mock';

/**
 * The S3 exposure undos: what the findings read from CloudTrail's documented shapes
 * (PutBucketPublicAccessBlock with requestParameters.PublicAccessBlockConfiguration and bucketName;
 * PutAccountPublicAccessBlock / DeleteAccountPublicAccessBlock, recorded by s3.amazonaws.com; PutBucketAcl
 * with AccessControlPolicy or a canned x-amz-acl), and the registry entries against the SDK's own
 * clients, mocked: S3 raises NoSuchBucket (modeled) and NoSuchPublicAccessBlockConfiguration (its
 * ServiceException named by the code); S3 Control models NoSuchPublicAccessBlockConfiguration.
 */
type Rec = Record<string, unknown>;
const ACCOUNT = '493859302102';
const written = fixture<Rec[]>('written/root_exposure_and_abuse_calls__written.json');

const root = { type: 'Root', principalId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT };
let n = 0;
function s3Event(eventName: string, requestParameters: Rec, region = 'eu-west-1', at = '2020-11-01T09:00:00Z'): Rec {
  n += 1;
  return {
    eventVersion: '1.09',
    userIdentity: root,
    eventTime: at,
    eventSource: 's3.amazonaws.com',
    eventName,
    awsRegion: region,
    sourceIPAddress: '92.55.146.245',
    requestParameters,
    responseElements: null,
    eventID: `s3-test-${n}`,
    recipientAccountId: ACCOUNT,
  };
}
const classify = (records: Rec[]) =>
  classifyWindow(
    records.map((record) => ({ region: String(record['awsRegion']), record, query: 'root' })),
    { known: knownSources(['203.0.113.0/24']), exposure: { accountId: ACCOUNT } },
  );
const ALL = 'BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets';
const off = { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false };
const on = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

describe('S3 exposure findings read the documented CloudTrail shapes and propose their undo', () => {
  it('the written records: bucket PAB deleted, account PAB turned off, AllUsers READ: each proposed, all four blocks by default', () => {
    const { remediations, findings } = classify(written);
    expect(
      remediations
        .filter((r) => ['restore-public-access-block', 'revert-bucket-acl'].includes(r.action))
        .map((r) => [r.action, r.target, r.region]),
    ).toEqual([
      ['revert-bucket-acl', 'acme-backups AllUsers:READ', 'us-east-1'],
      ['restore-public-access-block', `bucket:acme-backups ${ALL} default`, 'us-east-1'],
      ['restore-public-access-block', `account ${ALL} default`, 'us-east-1'],
    ]);
    const pab = findings.find((f) => f.exposure?.kind === 's3-public-access-block' && f.exposure.resource.id === 'acme-backups')!;
    expect(pab.exposure!.undo).toEqual({ kind: 'restore-public-access-block', reversible: true, status: 'proposed' });
    expect(pab.detail).toContain('CloudTrail did not record the configuration before it in the window: the undo turns all four blocks on.');
    const account = remediations.find((r) => r.target.startsWith('account'))!;
    expect(account.undo).toContain('("default": none recorded before, so all four on): account');
  });

  it('a PutBucketPublicAccessBlock that leaves settings out turns them off (each is false unless set)', () => {
    const { findings } = classify([
      s3Event('PutBucketPublicAccessBlock', {
        publicAccessBlock: [''],
        bucketName: 'acme-exports',
        PublicAccessBlockConfiguration: { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/', BlockPublicAcls: true },
        Host: 'acme-exports.s3.eu-west-1.amazonaws.com',
      }),
    ]);
    const f = findings.find((x) => x.exposure?.kind === 's3-public-access-block')!;
    expect(f.title).toBe(
      'S3 Block Public Access turned off (IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets) for bucket acme-exports in eu-west-1',
    );
    expect(f.exposure!.change).toEqual({
      bucketName: 'acme-exports',
      turnedOff: ['IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'],
      deleted: false,
      configuration: { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false },
    });
  });

  it('an earlier Put of the window recorded the settings before: every later change is undone to those, and says so', () => {
    const before = s3Event(
      'PutBucketPublicAccessBlock',
      { bucketName: 'acme-exports', PublicAccessBlockConfiguration: on },
      'eu-west-1',
      '2020-11-01T08:59:00Z',
    );
    const partly = s3Event(
      'PutBucketPublicAccessBlock',
      { bucketName: 'acme-exports', PublicAccessBlockConfiguration: { ...on, BlockPublicPolicy: false } },
      'eu-west-1',
      '2020-11-01T09:00:00Z',
    );
    const removed = s3Event(
      'DeleteBucketPublicAccessBlock',
      { bucketName: 'acme-exports', publicAccessBlock: [''] },
      'eu-west-1',
      '2020-11-01T09:01:00Z',
    );
    const { remediations, findings } = classify([removed, partly, before]);
    // One undo for the bucket: back to what was on before root's first change.
    expect(remediations.map((r) => [r.action, r.target])).toEqual([['restore-public-access-block', `bucket:acme-exports ${ALL} recorded`]]);
    const changes = findings.filter((x) => x.exposure?.kind === 's3-public-access-block');
    expect(changes.map((f) => [f.exposure!.event.id, f.exposure!.previous])).toEqual([
      [partly['eventID'], on],
      [removed['eventID'], on],
    ]);
    expect(changes[0]!.detail).toContain(
      'The undo restores the settings an earlier PutPublicAccessBlock of the window recorded (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets).',
    );
  });

  it('DeleteAccountPublicAccessBlock (s3.amazonaws.com, no bucket) is the account setting; a failed call proposes nothing', () => {
    const del = s3Event('DeleteAccountPublicAccessBlock', { Host: `${ACCOUNT}.s3-control.eu-west-1.amazonaws.com` });
    expect(classify([del]).remediations.map((r) => r.target)).toEqual([`account ${ALL} default`]);
    expect(classify([{ ...del, errorCode: 'AccessDenied' }]).remediations).toEqual([]);
  });

  it('a public canned ACL names the grants it adds: public-read-write is AllUsers READ and WRITE', () => {
    const { remediations } = classify([s3Event('PutBucketAcl', { bucketName: 'acme-web', acl: [''], 'x-amz-acl': ['public-read-write'] })]);
    expect(remediations.map((r) => [r.action, r.target])).toEqual([['revert-bucket-acl', 'acme-web AllUsers:READ,AllUsers:WRITE']]);
  });
});

// ---------- the registry entries, on mocked SDK clients ----------

const s3 = mockClient(S3Client);
const s3control = mockClient(S3ControlClient);
const s3Error = (name: string, status = 404) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
const clients = sdkTargetClients();
const base = {
  accountId: ACCOUNT,
  region: 'eu-west-1',
  clients,
  responder: clients,
  clock: fixedClock('2024-03-04T11:00:00Z'),
  baseline: { alternateContacts: {} },
  limiters: new RateLimiters(2, virtualTimer()),
};
const runCtx = (target: string): RunContext => ({ ...base, target, member: false, rootSession: () => Promise.reject(new Error('none')) });
const verifyCtx = (target: string): VerifyContext => ({ ...base, target, ran: { detail: '' } });

beforeEach(() => {
  s3.reset();
  s3control.reset();
});

describe('restore-public-access-block (mocked S3 and S3 Control)', () => {
  it('bucket with no configuration (NoSuchPublicAccessBlockConfiguration): all four on, in the bucket region; undo deletes it again', async () => {
    s3.on(GetPublicAccessBlockCommand)
      .rejectsOnce(s3Error('NoSuchPublicAccessBlockConfiguration'))
      .resolves({ PublicAccessBlockConfiguration: on });
    s3.on(PutPublicAccessBlockCommand).resolves({});
    const out = await restorePublicAccessBlock.run(runCtx(`bucket:acme-backups ${ALL} default`));
    expect(s3.commandCalls(PutPublicAccessBlockCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'acme-backups', ExpectedBucketOwner: ACCOUNT, PublicAccessBlockConfiguration: on },
    ]);
    expect(out).toEqual({
      status: 'done',
      detail:
        'Turned on BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets in the Block Public Access of bucket acme-backups in eu-west-1 (PutPublicAccessBlock), restoring all four blocks: CloudTrail recorded no earlier configuration in the window; it was not set.',
      undo: ['aws s3api delete-public-access-block --bucket acme-backups --region eu-west-1'],
    });
    expect(await restorePublicAccessBlock.verify(verifyCtx(`bucket:acme-backups ${ALL} default`))).toEqual({
      verified: true,
      reason: `GetPublicAccessBlock: bucket acme-backups in eu-west-1 has ${ALL.split(',').join(', ')} on`,
    });
  });

  it('recorded settings: turns on only those, never turns off one that is on now; undo puts back what it found', async () => {
    s3.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: { ...off, RestrictPublicBuckets: true } });
    s3.on(PutPublicAccessBlockCommand).resolves({});
    const out = await restorePublicAccessBlock.run(runCtx('bucket:acme-exports BlockPublicAcls,IgnorePublicAcls recorded'));
    expect(s3.commandCalls(PutPublicAccessBlockCommand)[0]!.args[0].input.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: true,
    });
    expect(out.detail).toContain('restoring the settings CloudTrail recorded before root changed them');
    expect(out.undo).toEqual([
      'aws s3api put-public-access-block --bucket acme-exports --public-access-block-configuration BlockPublicAcls=false,IgnorePublicAcls=false,BlockPublicPolicy=false,RestrictPublicBuckets=true --region eu-west-1',
    ]);
  });

  it('account: S3 Control with the account id; NoSuchPublicAccessBlockConfiguration is "none"; verify reads it back', async () => {
    s3control
      .on(GetAccountPublicAccessBlockCommand)
      .rejectsOnce(new NoSuchPublicAccessBlockConfiguration(meta(404)))
      .rejectsOnce(new NoSuchPublicAccessBlockConfiguration(meta(404)))
      .resolves({ PublicAccessBlockConfiguration: on });
    s3control.on(PutAccountPublicAccessBlockCommand).resolves({});
    expect(await restorePublicAccessBlock.verify(verifyCtx(`account ${ALL} default`))).toEqual({
      verified: false,
      reason: `GetPublicAccessBlock: account ${ACCOUNT} still has ${ALL.split(',').join(', ')} off`,
    });
    const out = await restorePublicAccessBlock.run(runCtx(`account ${ALL} default`));
    expect(s3control.commandCalls(PutAccountPublicAccessBlockCommand).map((c) => c.args[0].input)).toEqual([
      { AccountId: ACCOUNT, PublicAccessBlockConfiguration: on },
    ]);
    expect(s3.calls()).toEqual([]);
    expect(out.undo).toEqual([`aws s3control delete-public-access-block --account-id ${ACCOUNT} --region eu-west-1`]);
    expect((await restorePublicAccessBlock.verify(verifyCtx(`account ${ALL} default`))).verified).toBe(true);
  });

  it('already on: nothing to restore, no Put; refused (AccessDenied): a typed access-denied error, never "done"', async () => {
    s3.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: on });
    expect((await restorePublicAccessBlock.run(runCtx(`bucket:b ${ALL} default`))).detail).toMatch(/nothing to restore/);
    expect(s3.commandCalls(PutPublicAccessBlockCommand)).toEqual([]);
    s3.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: off });
    s3.on(PutPublicAccessBlockCommand).rejects(s3Error('AccessDenied', 403));
    await expect(restorePublicAccessBlock.run(runCtx(`bucket:b ${ALL} default`))).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it('a bucket gone (NoSuchBucket): nothing to restore, verified', async () => {
    s3.on(GetPublicAccessBlockCommand).rejects(new NoSuchBucket(meta(404)));
    expect((await restorePublicAccessBlock.run(runCtx(`bucket:gone ${ALL} default`))).detail).toBe(
      'Bucket gone no longer exists in eu-west-1: nothing to restore.',
    );
    expect((await restorePublicAccessBlock.verify(verifyCtx(`bucket:gone ${ALL} default`))).verified).toBe(true);
  });
});

describe('revert-bucket-acl (mocked S3)', () => {
  const owner = { ID: 'd25639fbe9c19cd30a4c0f43fbf00e2d3f96400a9aa8dabfbbebe1906Example', DisplayName: 'acme' };
  const ownerGrant = { Grantee: { Type: 'CanonicalUser' as const, ID: owner.ID }, Permission: 'FULL_CONTROL' as const };
  const logGrant = {
    Grantee: { Type: 'Group' as const, URI: 'http://acs.amazonaws.com/s3/LogDelivery' },
    Permission: 'WRITE' as const,
  };
  const allRead = {
    Grantee: { Type: 'Group' as const, URI: 'http://acs.amazonaws.com/groups/global/AllUsers' },
    Permission: 'READ' as const,
  };
  const allReadAcp = { ...allRead, Permission: 'READ_ACP' as const };

  it('removes exactly the named public grants, keeping the owner and every other grant; undo puts the whole ACL back', async () => {
    s3.on(GetBucketAclCommand)
      .resolvesOnce({ Owner: owner, Grants: [ownerGrant, allRead, logGrant, allReadAcp] })
      .resolves({ Owner: owner, Grants: [ownerGrant, logGrant, allReadAcp] });
    s3.on(PutBucketAclCommand).resolves({});
    const out = await revertBucketAcl.run(runCtx('acme-backups AllUsers:READ'));
    expect(s3.commandCalls(PutBucketAclCommand).map((c) => c.args[0].input)).toEqual([
      {
        Bucket: 'acme-backups',
        ExpectedBucketOwner: ACCOUNT,
        AccessControlPolicy: { Owner: owner, Grants: [ownerGrant, logGrant, allReadAcp] },
      },
    ]);
    expect(out.detail).toBe(
      'Removed from the ACL of bucket acme-backups in eu-west-1 (PutBucketAcl): AllUsers READ; kept the owner and 3 other grants.',
    );
    expect(out.undo).toEqual([
      `aws s3api put-bucket-acl --bucket acme-backups --access-control-policy '${JSON.stringify({ Owner: owner, Grants: [ownerGrant, allRead, logGrant, allReadAcp] })}' --region eu-west-1`,
    ]);
    expect(await revertBucketAcl.verify(verifyCtx('acme-backups AllUsers:READ'))).toEqual({
      verified: true,
      reason: 'GetBucketAcl: bucket acme-backups in eu-west-1 grants none of AllUsers READ',
    });
  });

  it('the ACL cannot be read: a typed error naming the bucket, and nothing is put', async () => {
    s3.on(GetBucketAclCommand).rejects(s3Error('AccessDenied', 403));
    const denied = revertBucketAcl.run(runCtx('acme-backups AllUsers:READ'));
    await expect(denied).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(denied).rejects.toThrow(
      /s3:GetBucketAcl \(bucket acme-backups in eu-west-1: the ACL could not be read, so nothing was changed\)/,
    );
    s3.on(GetBucketAclCommand).rejects(s3Error('AccessControlListNotSupported', 400));
    await expect(revertBucketAcl.run(runCtx('acme-backups AllUsers:READ'))).rejects.toBeInstanceOf(AwsCallError);
    expect(s3.commandCalls(PutBucketAclCommand)).toEqual([]);
  });

  it('the grant is gone already: nothing to remove; verify says what is still granted', async () => {
    s3.on(GetBucketAclCommand).resolves({ Owner: owner, Grants: [ownerGrant] });
    expect((await revertBucketAcl.run(runCtx('acme-backups AllUsers:READ'))).detail).toMatch(
      /no longer grants AllUsers READ: nothing to remove/,
    );
    s3.on(GetBucketAclCommand).resolves({ Owner: owner, Grants: [ownerGrant, allRead] });
    expect(await revertBucketAcl.verify(verifyCtx('acme-backups AllUsers:READ,AuthenticatedUsers:READ'))).toEqual({
      verified: false,
      reason: 'GetBucketAcl: bucket acme-backups in eu-west-1 still grants AllUsers READ',
    });
  });
});

describe("the simulated account's S3, built from its CloudTrail records, answers with S3's error codes", () => {
  const records = fixture<Rec[]>('written/root_exposure_and_abuse_calls__written.json') as JsonObject[];
  const make = () => new SimulatedAws(world([simAccount(ACCOUNT, { events: { 'us-east-1': records } })]), virtualTimer());
  const name = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: Error) => e.name,
    );

  it('the records make the state: AllUsers READ on the ACL, the bucket configuration deleted, the account one all off', () => {
    const s3 = make().s3Account.state(ACCOUNT, { 'us-east-1': records });
    expect(s3.accountPublicAccessBlock).toEqual(off);
    expect(s3.buckets['acme-backups']).toMatchObject({ region: 'us-east-1' });
    expect(s3.buckets['acme-backups']!.publicAccessBlock).toBeUndefined();
    expect(s3.buckets['acme-backups']!.grants.map((g) => `${g.Grantee.URI ?? g.Grantee.ID} ${g.Permission}`)).toEqual([
      'd25639fbe9c19cd30a4c0f43fbf00e2d3f96400a9aa8dabfbbebe1906Example FULL_CONTROL',
      'http://acs.amazonaws.com/groups/global/AllUsers READ',
    ]);
  });

  it('NoSuchPublicAccessBlockConfiguration, NoSuchBucket, PermanentRedirect in another region, InvalidRequest for an empty Put', async () => {
    const c = make().targetClients({ accountId: ACCOUNT });
    expect(await name(c.s3('us-east-1').send(new GetPublicAccessBlockCommand({ Bucket: 'acme-backups' })))).toBe(
      'NoSuchPublicAccessBlockConfiguration',
    );
    expect(await name(c.s3('us-east-1').send(new GetBucketAclCommand({ Bucket: 'nobody' })))).toBe('NoSuchBucket');
    expect(await name(c.s3('eu-west-1').send(new GetBucketAclCommand({ Bucket: 'acme-backups' })))).toBe('PermanentRedirect');
    expect(
      await name(c.s3('us-east-1').send(new GetBucketAclCommand({ Bucket: 'acme-backups', ExpectedBucketOwner: '111122223333' }))),
    ).toBe('AccessDenied');
    expect(
      await name(c.s3('us-east-1').send(new PutPublicAccessBlockCommand({ Bucket: 'acme-backups', PublicAccessBlockConfiguration: {} }))),
    ).toBe('InvalidRequest');
    const account = c.s3control('us-east-1').send(new GetAccountPublicAccessBlockCommand({ AccountId: ACCOUNT }));
    await expect(account).resolves.toMatchObject({ PublicAccessBlockConfiguration: off });
    expect(await name(c.s3control('us-east-1').send(new GetAccountPublicAccessBlockCommand({ AccountId: '111122223333' })))).toBe(
      'AccessDenied',
    );
  });

  it('each entry calls only the S3 actions it declares (S3 and S3 Control told apart)', async () => {
    const aws = make();
    const ctx = { ...base, clients: aws.targetClients({ accountId: ACCOUNT }), region: 'us-east-1' };
    for (const [entry, target] of [
      [restorePublicAccessBlock, `bucket:acme-backups ${ALL} default`],
      [restorePublicAccessBlock, `account ${ALL} default`],
      [revertBucketAcl, 'acme-backups AllUsers:READ'],
    ] as const) {
      const before = aws.calls.length;
      const out = await entry.run({ ...ctx, target, member: false, rootSession: () => Promise.reject(new Error('none')) });
      expect(out.status).toBe('done');
      expect(aws.calls.slice(before).filter((c) => !entry.permissions.run.includes(COMMAND_ACTIONS[c.command]!))).toEqual([]);
      const mid = aws.calls.length;
      expect(await entry.verify({ ...ctx, target, ran: { detail: out.detail } })).toMatchObject({ verified: true });
      expect(aws.calls.slice(mid).filter((c) => !entry.permissions.verify.includes(COMMAND_ACTIONS[c.command]!))).toEqual([]);
    }
    expect(aws.calls.map((c) => c.command)).toEqual(
      expect.arrayContaining(['S3ControlPutPublicAccessBlockCommand', 'PutPublicAccessBlockCommand']),
    );
  });
});
