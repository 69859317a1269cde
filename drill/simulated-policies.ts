import type { JsonObject } from '#shared/cloudtrail';
import { asText, slug } from '#shared/text';

/**
 * The target account's bucket policies and KMS key policies, built from the account's own CloudTrail
 * records (CreateBucket, PutBucketPolicy, DeleteBucketPolicy, CreateKey, PutKeyPolicy, applied in
 * the order they arrive), answering S3's and KMS's calls with their documented error codes:
 * NoSuchBucket and NoSuchBucketPolicy (S3, 404), NotFoundException (KMS), MalformedPolicy /
 * MalformedPolicyDocumentException for a policy that is not JSON. Not the drill's evidence bucket
 * (simulated-s3.ts): these are the account's own buckets, reached through TargetClients.s3.
 */
export interface SimPolicies {
  /** Bucket name -> its policy text (null: none). A bucket is known once a record names it. */
  buckets: Record<string, string | null>;
  /** Key id -> its default key policy text. */
  keys: Record<string, string>;
}

/** An error the simulated account raises as the service's SDK exception (its name is the error code). */
export type PolicyError = (name: string, message: string, status?: number) => Error;

const asObject = (v: unknown): JsonObject => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : {});
const text = (policy: unknown) => (typeof policy === 'string' ? policy : JSON.stringify(policy ?? null));

/** A key id from an id or a key ARN (`arn:aws:kms:<region>:<account>:key/<id>`). */
export const keyIdOf = (key: string) => /:key\/(.+)$/.exec(key)?.[1] ?? key;

/** The key policy KMS gives a key created without one: the account may administer and use it. */
export function defaultKeyPolicy(accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  });
}

/** What one CloudTrail record did to the account's bucket and key policies (failed calls changed nothing). */
export function applyPolicyRecord(state: SimPolicies, r: JsonObject, accountId: string): void {
  if (r['errorCode']) return;
  const p = asObject(r['requestParameters']);
  const name = r['eventName'];
  if (r['eventSource'] === 's3.amazonaws.com') {
    const bucket = typeof p['bucketName'] === 'string' ? p['bucketName'] : undefined;
    if (!bucket) return;
    if (name === 'CreateBucket') state.buckets[bucket] ??= null;
    else if (name === 'PutBucketPolicy') state.buckets[bucket] = text(p['bucketPolicy'] ?? p['policy']);
    else if (name === 'DeleteBucketPolicy') state.buckets[bucket] = null;
    else if (name === 'DeleteBucket') delete state.buckets[bucket];
    return;
  }
  if (r['eventSource'] === 'kms.amazonaws.com') {
    if (name === 'CreateKey') {
      const id = asObject(asObject(r['responseElements'])['keyMetadata'])['keyId'];
      if (typeof id === 'string') state.keys[id] = typeof p['policy'] === 'string' ? p['policy'] : defaultKeyPolicy(accountId);
    } else if (name === 'PutKeyPolicy' && typeof p['keyId'] === 'string' && typeof p['policy'] === 'string')
      state.keys[keyIdOf(p['keyId'])] = p['policy'];
  }
}

/** The calls the policy undos make, against the state, with S3's and KMS's error codes. */
export function policyCall(
  state: SimPolicies,
  name: string,
  input: Record<string, unknown>,
  fail: PolicyError,
  change: (what: string, target: string) => void,
): unknown {
  const json = (policy: unknown, error: string) => {
    try {
      if (typeof policy !== 'string' || !policy.trim().startsWith('{')) throw new Error('not an object');
      JSON.parse(policy);
      return policy;
    } catch {
      throw fail(error, "Policies must be valid JSON and the first byte must be '{'", 400);
    }
  };
  const bucketOf = () => {
    const bucket = asText(input['Bucket'] ?? '');
    if (!(bucket in state.buckets)) throw fail('NoSuchBucket', 'The specified bucket does not exist', 404);
    return bucket;
  };
  const keyOf = () => {
    const key = keyIdOf(asText(input['KeyId'] ?? ''));
    if (!(key in state.keys)) throw fail('NotFoundException', `Key '${asText(input['KeyId'])}' does not exist`, 400);
    const policyName = input['PolicyName'] ?? 'default';
    if (policyName !== 'default') throw fail('NotFoundException', `Policy '${asText(policyName)}' does not exist`, 400);
    return key;
  };
  switch (name) {
    case 'GetBucketPolicyCommand': {
      const policy = state.buckets[bucketOf()];
      if (policy === null || policy === undefined) throw fail('NoSuchBucketPolicy', 'The bucket policy does not exist', 404);
      return { Policy: policy };
    }
    case 'PutBucketPolicyCommand': {
      const bucket = bucketOf();
      state.buckets[bucket] = json(input['Policy'], 'MalformedPolicy');
      change('s3-put-bucket-policy', bucket);
      return {};
    }
    case 'DeleteBucketPolicyCommand': {
      const bucket = bucketOf();
      // S3 answers 204 whether or not the bucket had a policy.
      state.buckets[bucket] = null;
      change('s3-delete-bucket-policy', bucket);
      return {};
    }
    case 'GetKeyPolicyCommand': {
      const key = keyOf();
      return { Policy: state.keys[key], PolicyName: 'default' };
    }
    case 'PutKeyPolicyCommand': {
      const key = keyOf();
      state.keys[key] = json(input['Policy'], 'MalformedPolicyDocumentException');
      change('kms-put-key-policy', key);
      return {};
    }
    default:
      throw fail('UnsupportedOperation', `The simulated account does not implement ${name}`, 400);
  }
}

/** A private policy, as a responder puts it in the console for a "make it private" task: only the account itself. */
export function privatePolicy(kind: 'bucket' | 'key', accountId: string, id: string): string {
  return kind === 'key'
    ? defaultKeyPolicy(accountId)
    : JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'OwnAccountOnly',
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${accountId}:root` },
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${id}/*`,
          },
        ],
      });
}

/** One task id per bucket or key, as Assess Incident names a "make it private" task (resource-policy.ts policyUndoTask). */
const privateTaskId = (kind: 'bucket' | 'key', id: string) => `make-${kind}-policy-private-${slug(id)}`.slice(0, 80);

/**
 * The console work of a "make the policy private" task, as a responder does it: signed in as an
 * administrator role (not root), they replace the policy with one that grants only the account, which
 * CloudTrail records as that role's PutBucketPolicy / PutKeyPolicy. Returns what was done, or
 * undefined when the task is not such a task (or names nothing the account has).
 */
export function policyConsoleWork(
  account: { accountId: string; enabledRegions: string[]; events: Record<string, JsonObject[]> },
  stateOf: (region: string) => SimPolicies,
  taskId: string,
  at: string,
  sourceIPAddress: string,
): string | undefined {
  const kind = taskId.startsWith('make-bucket-policy-private-')
    ? 'bucket'
    : taskId.startsWith('make-key-policy-private-')
      ? 'key'
      : undefined;
  if (!kind) return undefined;
  for (const region of account.enabledRegions) {
    const state = stateOf(region);
    const id = Object.keys(kind === 'bucket' ? state.buckets : state.keys).find((x) => privateTaskId(kind, x) === taskId);
    if (!id) continue;
    const policy = privatePolicy(kind, account.accountId, id);
    (account.events[region] ??= []).push({
      eventVersion: '1.09',
      eventID: `drill-${taskId}-${at}`,
      eventTime: at,
      awsRegion: region,
      sourceIPAddress,
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
      userIdentity: {
        type: 'AssumedRole',
        principalId: 'AROADRILLRESPONDER0001:responder',
        arn: `arn:aws:sts::${account.accountId}:assumed-role/IncidentResponder/responder`,
        accountId: account.accountId,
      },
      eventSource: kind === 'bucket' ? 's3.amazonaws.com' : 'kms.amazonaws.com',
      eventName: kind === 'bucket' ? 'PutBucketPolicy' : 'PutKeyPolicy',
      eventType: 'AwsApiCall',
      requestParameters:
        kind === 'bucket'
          ? { bucketName: id, bucketPolicy: JSON.parse(policy) as JsonObject, policy: [''] }
          : { keyId: id, policyName: 'default', policy, bypassPolicyLockoutSafetyCheck: false },
      responseElements: null,
      readOnly: false,
      recipientAccountId: account.accountId,
      sessionCredentialFromConsole: 'true',
    });
    return `replaced the policy of ${kind === 'bucket' ? 'S3 bucket' : 'KMS key'} ${id} in ${region} with one that grants only the account`;
  }
  return undefined;
}
