import type { JsonObject } from '#shared/cloudtrail';

/**
 * The target account's own S3, as the S3 exposure undos see it: each bucket (its region, owner, ACL
 * grants and Block Public Access configuration) and the account's Block Public Access (S3 Control).
 * Not the responder's evidence bucket (simulated-s3.ts). What the account's CloudTrail records did
 * (CreateBucket, with all four blocks on as S3 does since April 2023; PutBucketAcl with an AccessControlPolicy or a canned ACL, Put/DeleteBucketPublicAccessBlock,
 * Put/DeleteAccountPublicAccessBlock, DeleteBucket; failed calls changed nothing) is applied as the
 * records arrive, so a scenario's records make the state. It answers with S3's error codes:
 * NoSuchBucket (404), NoSuchPublicAccessBlockConfiguration (404), PermanentRedirect (301) for a bucket
 * addressed in another region than its own, AccessDenied (403) when ExpectedBucketOwner or the S3
 * Control AccountId is not the caller's account.
 */

export type PublicAccessBlock = Record<'BlockPublicAcls' | 'IgnorePublicAcls' | 'BlockPublicPolicy' | 'RestrictPublicBuckets', boolean>;
export interface SimGrant {
  Grantee: {
    Type: 'CanonicalUser' | 'Group' | 'AmazonCustomerByEmail';
    ID?: string;
    URI?: string;
    DisplayName?: string;
    EmailAddress?: string;
  };
  Permission: string;
}
export interface SimBucket {
  region: string;
  owner: { ID: string; DisplayName?: string };
  grants: SimGrant[];
  publicAccessBlock?: PublicAccessBlock;
}
export interface SimS3State {
  buckets: Record<string, SimBucket>;
  accountPublicAccessBlock?: PublicAccessBlock;
}

const SETTINGS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;
const GROUP = 'http://acs.amazonaws.com/groups/global/';

/**
 * The S3 and S3 Control commands share their class names (GetPublicAccessBlockCommand): S3 Control's
 * carry the account id (the x-amz-account-id header), S3's a bucket. The simulated account names the
 * S3 Control ones `S3Control<name>` so each maps to its own IAM action.
 */
export function s3CommandName(name: string, input: Record<string, unknown>): string {
  return /PublicAccessBlockCommand$/.test(name) && 'AccountId' in input && !('Bucket' in input) ? `S3Control${name}` : name;
}

/** The IAM action each target-account S3 command needs. */
export const S3_COMMAND_ACTIONS: Record<string, string> = {
  GetBucketAclCommand: 's3:GetBucketAcl',
  PutBucketAclCommand: 's3:PutBucketAcl',
  GetPublicAccessBlockCommand: 's3:GetBucketPublicAccessBlock',
  PutPublicAccessBlockCommand: 's3:PutBucketPublicAccessBlock',
  S3ControlGetPublicAccessBlockCommand: 's3:GetAccountPublicAccessBlock',
  S3ControlPutPublicAccessBlockCommand: 's3:PutAccountPublicAccessBlock',
};

const asObject = (v: unknown): JsonObject => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : {});
const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
const block = (config: unknown): PublicAccessBlock =>
  Object.fromEntries(SETTINGS.map((k) => [k, asObject(config)[k] === true || asObject(config)[k] === 'true'])) as PublicAccessBlock;

/** The owner's canonical id for an account whose records name none (a stand-in, stable per account). */
const canonicalId = (accountId: string) => `${accountId.padEnd(64, '0')}`;

/** The grants a canned ACL sets (S3 User Guide, "Canned ACL"). */
function cannedGrants(acl: string, owner: SimBucket['owner']): SimGrant[] {
  const own: SimGrant = { Grantee: { Type: 'CanonicalUser', ...owner }, Permission: 'FULL_CONTROL' };
  const group = (g: string, Permission: string): SimGrant => ({ Grantee: { Type: 'Group', URI: `${GROUP}${g}` }, Permission });
  switch (acl) {
    case 'public-read':
      return [own, group('AllUsers', 'READ')];
    case 'public-read-write':
      return [own, group('AllUsers', 'READ'), group('AllUsers', 'WRITE')];
    case 'authenticated-read':
      return [own, group('AuthenticatedUsers', 'READ')];
    default:
      return [own];
  }
}

/** A grant as CloudTrail records it (`xsi:type`, ID / URI / EmailAddress) in the SDK's shape. */
function grantOf(g: JsonObject): SimGrant {
  const grantee = asObject(g['Grantee']);
  const type = (text(grantee['xsi:type']) ?? (grantee['URI'] ? 'Group' : 'CanonicalUser')) as SimGrant['Grantee']['Type'];
  return {
    Grantee: {
      Type: type,
      ...(text(grantee['ID']) ? { ID: text(grantee['ID'])! } : {}),
      ...(text(grantee['URI']) ? { URI: text(grantee['URI'])! } : {}),
      ...(text(grantee['DisplayName']) ? { DisplayName: text(grantee['DisplayName'])! } : {}),
      ...(text(grantee['EmailAddress']) ? { EmailAddress: text(grantee['EmailAddress'])! } : {}),
    },
    Permission: text(g['Permission']) ?? 'READ',
  };
}

/** What one CloudTrail record did to the account's S3 (failed calls changed nothing). */
export function applyS3Record(s3: SimS3State, accountId: string, r: JsonObject): void {
  if (r['errorCode'] || r['eventSource'] !== 's3.amazonaws.com') return;
  const p = asObject(r['requestParameters']);
  const name = text(p['bucketName']);
  const region = text(r['awsRegion']) ?? 'us-east-1';
  const bucket = () =>
    (s3.buckets[name!] ??= {
      region,
      owner: { ID: canonicalId(accountId) },
      grants: [{ Grantee: { Type: 'CanonicalUser', ID: canonicalId(accountId) }, Permission: 'FULL_CONTROL' }],
    });
  switch (r['eventName']) {
    case 'CreateBucket':
      // A new bucket has all four blocks on (S3's default since April 2023).
      if (name) bucket().publicAccessBlock = block(Object.fromEntries(SETTINGS.map((k) => [k, true])));
      return;
    case 'DeleteBucket':
      if (name) delete s3.buckets[name];
      return;
    case 'PutBucketAcl': {
      if (!name) return;
      const b = bucket();
      const policy = asObject(p['AccessControlPolicy']);
      const owner = text(asObject(policy['Owner'])['ID']);
      if (owner) b.owner = { ID: owner };
      const canned = [p['x-amz-acl']].flat().find((a): a is string => typeof a === 'string' && a !== '');
      if (canned) {
        b.grants = cannedGrants(canned, b.owner);
        return;
      }
      const list = asObject(policy['AccessControlList'])['Grant'];
      b.grants = [list]
        .flat()
        .filter((g) => typeof g === 'object' && g !== null)
        .map((g) => grantOf(asObject(g)));
      return;
    }
    case 'PutBucketPublicAccessBlock':
      if (name) bucket().publicAccessBlock = block(p['PublicAccessBlockConfiguration']);
      return;
    case 'DeleteBucketPublicAccessBlock':
      if (name) delete bucket().publicAccessBlock;
      return;
    case 'PutAccountPublicAccessBlock':
      s3.accountPublicAccessBlock = block(p['PublicAccessBlockConfiguration']);
      return;
    case 'DeleteAccountPublicAccessBlock':
      delete s3.accountPublicAccessBlock;
      return;
    default:
      if (name) bucket(); // any other bucket call: the bucket exists, in the record's region
  }
}

type Fail = (service: 's3' | 's3control', code: string, message: string, status: number) => Error;

/**
 * A Put with none of the four settings is refused (InvalidRequest), as moto does and AWS does: the
 * Rust SDK's all-false request, sent as an empty configuration, failed so (awslabs/aws-sdk-rust#819).
 */
function requireSetting(service: 's3' | 's3control', config: unknown, fail: Fail): void {
  if (!SETTINGS.some((k) => typeof asObject(config)[k] === 'boolean'))
    throw fail(service, 'InvalidRequest', 'Must specify at least one configuration.', 400);
}
type Change = (what: string, target: string) => void;

/** Each account's S3, built from its CloudTrail records (every region), and the calls the S3 exposure undos make. */
export class SimulatedS3Account {
  private readonly states = new Map<string, { state: SimS3State; applied: Map<string, number> }>();

  /** The account's S3, with every record that arrived since the last call applied (records of every region, in time order). */
  state(accountId: string, events: Record<string, JsonObject[]>): SimS3State {
    let entry = this.states.get(accountId);
    if (!entry) this.states.set(accountId, (entry = { state: { buckets: {} }, applied: new Map() }));
    const fresh: JsonObject[] = [];
    for (const [region, records] of Object.entries(events)) {
      fresh.push(...records.slice(entry.applied.get(region) ?? 0));
      entry.applied.set(region, records.length);
    }
    fresh.sort((a, b) => (text(a['eventTime']) ?? '').localeCompare(text(b['eventTime']) ?? ''));
    for (const r of fresh) applyS3Record(entry.state, accountId, r);
    return entry.state;
  }

  call(
    accountId: string,
    events: Record<string, JsonObject[]>,
    region: string,
    name: string,
    input: Record<string, any>, // eslint-disable-line @typescript-eslint/no-explicit-any -- SDK command inputs read field by field
    fail: Fail,
    change: Change,
  ): unknown {
    const s3 = this.state(accountId, events);
    if (name.startsWith('S3Control')) {
      if (input['AccountId'] !== accountId)
        throw fail('s3control', 'AccessDenied', `Access Denied: the caller's account is not ${String(input['AccountId'])}`, 403);
      if (name === 'S3ControlGetPublicAccessBlockCommand') {
        if (!s3.accountPublicAccessBlock)
          throw fail('s3control', 'NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', 404);
        return { PublicAccessBlockConfiguration: { ...s3.accountPublicAccessBlock } };
      }
      requireSetting('s3control', input['PublicAccessBlockConfiguration'], fail);
      s3.accountPublicAccessBlock = block(input['PublicAccessBlockConfiguration']);
      change('s3-put-account-public-access-block', accountId);
      return {};
    }
    const name_ = String(input['Bucket']);
    const bucket = s3.buckets[name_];
    if (!bucket) throw fail('s3', 'NoSuchBucket', 'The specified bucket does not exist', 404);
    if (bucket.region !== region)
      throw fail(
        's3',
        'PermanentRedirect',
        `The bucket you are attempting to access must be addressed using the specified endpoint (the bucket is in ${bucket.region}).`,
        301,
      );
    if (input['ExpectedBucketOwner'] !== undefined && input['ExpectedBucketOwner'] !== accountId)
      throw fail('s3', 'AccessDenied', 'Access Denied', 403);
    switch (name) {
      case 'GetBucketAclCommand':
        return { Owner: { ...bucket.owner }, Grants: structuredClone(bucket.grants) };
      case 'PutBucketAclCommand': {
        const policy = (input['AccessControlPolicy'] ?? {}) as { Owner?: SimBucket['owner']; Grants?: SimGrant[] };
        if (!policy.Owner?.ID)
          throw fail(
            's3',
            'MalformedACLError',
            'The XML you provided was not well-formed or did not validate against our published schema',
            400,
          );
        bucket.grants = structuredClone(policy.Grants ?? []);
        change('s3-put-bucket-acl', name_);
        return {};
      }
      case 'GetPublicAccessBlockCommand':
        if (!bucket.publicAccessBlock)
          throw fail('s3', 'NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', 404);
        return { PublicAccessBlockConfiguration: { ...bucket.publicAccessBlock } };
      case 'PutPublicAccessBlockCommand':
        requireSetting('s3', input['PublicAccessBlockConfiguration'], fail);
        bucket.publicAccessBlock = block(input['PublicAccessBlockConfiguration']);
        change('s3-put-bucket-public-access-block', name_);
        return {};
      default:
        throw fail('s3', 'UnsupportedOperation', `The simulated account does not implement ${name}`, 400);
    }
  }
}
