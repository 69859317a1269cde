import {
  GetBucketAclCommand,
  GetPublicAccessBlockCommand,
  type Grant,
  type Owner,
  PutBucketAclCommand,
  PutPublicAccessBlockCommand,
  type PublicAccessBlockConfiguration,
} from '@aws-sdk/client-s3';
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand,
} from '@aws-sdk/client-s3-control';
import type { TargetClients } from '../clients';
import { typedAwsError, unlessAbsent } from '../errors';
import { parseAclTarget, parsePublicAccessBlockTarget, PUBLIC_ACCESS_BLOCKS, type PublicAccessBlockSetting } from '../exposure';
import { defineRemediation, type RemediationMeta } from './types';

/**
 * The undos of what root opened in S3, each exactly the change its event made (exposure.ts
 * `undoTarget`): Block Public Access turned back on (a bucket's, with S3 in the bucket's own region,
 * or the account's, with S3 Control), and the public grants root added to a bucket ACL removed,
 * every other grant and the owner kept. Each is re-read by API afterwards and a person can put it
 * back (the undo command names the exact setting or ACL found before the change).
 */

// ---------- restore-public-access-block ----------

type Settings = Record<PublicAccessBlockSetting, boolean>;

const where = (bucket: string | undefined, accountId: string, region: string) =>
  bucket ? `bucket ${bucket} in ${region}` : `account ${accountId}`;

/** The configuration now: the bucket's (S3, in its region) or the account's (S3 Control); null when there is none; undefined when the bucket is gone. */
async function currentBlock(
  clients: TargetClients,
  region: string,
  accountId: string,
  bucket: string | undefined,
): Promise<Settings | null | undefined> {
  const read = (c: PublicAccessBlockConfiguration | undefined): Settings =>
    Object.fromEntries(PUBLIC_ACCESS_BLOCKS.map((k) => [k, c?.[k] === true])) as Settings;
  if (bucket) {
    try {
      const out = await clients.s3(region).send(new GetPublicAccessBlockCommand({ Bucket: bucket, ExpectedBucketOwner: accountId }));
      return read(out.PublicAccessBlockConfiguration);
    } catch (error) {
      if (error instanceof Error && error.name === 'NoSuchPublicAccessBlockConfiguration') return null;
      if (error instanceof Error && error.name === 'NoSuchBucket') return undefined;
      throw typedAwsError(`s3:GetBucketPublicAccessBlock (bucket ${bucket} in ${region})`, error);
    }
  }
  const out = await unlessAbsent(
    's3:GetAccountPublicAccessBlock',
    () => clients.s3control(region).send(new GetAccountPublicAccessBlockCommand({ AccountId: accountId })),
    ['NoSuchPublicAccessBlockConfiguration'],
  );
  return out ? read(out.PublicAccessBlockConfiguration) : null;
}

const flags = (s: Settings) => PUBLIC_ACCESS_BLOCKS.map((k) => `${k}=${s[k]}`).join(',');

/** The CLI command that puts a configuration back (or removes it when there was none). */
function putBack(bucket: string | undefined, accountId: string, region: string, before: Settings | null): string {
  if (bucket)
    return before
      ? `aws s3api put-public-access-block --bucket ${bucket} --public-access-block-configuration ${flags(before)} --region ${region}`
      : `aws s3api delete-public-access-block --bucket ${bucket} --region ${region}`;
  return before
    ? `aws s3control put-public-access-block --account-id ${accountId} --public-access-block-configuration ${flags(before)} --region ${region}`
    : `aws s3control delete-public-access-block --account-id ${accountId} --region ${region}`;
}

const origin = (recorded: boolean) =>
  recorded
    ? 'the settings CloudTrail recorded before root changed them'
    : 'all four blocks: CloudTrail recorded no earlier configuration in the window';

export const restorePublicAccessBlockMeta: RemediationMeta<'restore-public-access-block'> = {
  action: 'restore-public-access-block',
  runsIn: 'target-account',
  permissions: {
    run: [
      's3:GetBucketPublicAccessBlock',
      's3:PutBucketPublicAccessBlock',
      's3:GetAccountPublicAccessBlock',
      's3:PutAccountPublicAccessBlock',
    ],
    verify: ['s3:GetBucketPublicAccessBlock', 's3:GetAccountPublicAccessBlock'],
  },
  reversible: true,
  approvals: 1,
};

export const restorePublicAccessBlock = /* @__PURE__ */ defineRemediation(restorePublicAccessBlockMeta, {
  async run({ clients, region, accountId, target }) {
    const { bucket, settings, recorded } = parsePublicAccessBlockTarget(target);
    const now = await currentBlock(clients, region, accountId, bucket);
    if (now === undefined)
      return { status: 'done', detail: `Bucket ${bucket} no longer exists in ${region}: nothing to restore.`, undo: [] };
    const missing = settings.filter((k) => !now?.[k]);
    if (missing.length === 0)
      return {
        status: 'done',
        detail: `Block Public Access of ${where(bucket, accountId, region)} already has ${settings.join(', ')} on: nothing to restore.`,
        undo: [],
      };
    // Turn on what was on before; never turn off a setting that is on now.
    const next = Object.fromEntries(PUBLIC_ACCESS_BLOCKS.map((k) => [k, (now?.[k] ?? false) || settings.includes(k)])) as Settings;
    if (bucket)
      await unlessAbsent(
        `s3:PutBucketPublicAccessBlock (bucket ${bucket} in ${region})`,
        () =>
          clients
            .s3(region)
            .send(
              new PutPublicAccessBlockCommand({ Bucket: bucket, ExpectedBucketOwner: accountId, PublicAccessBlockConfiguration: next }),
            ),
        [],
      );
    else
      await unlessAbsent(
        's3:PutAccountPublicAccessBlock',
        () =>
          clients
            .s3control(region)
            .send(new PutAccountPublicAccessBlockCommand({ AccountId: accountId, PublicAccessBlockConfiguration: next })),
        [],
      );
    return {
      status: 'done',
      detail: `Turned on ${missing.join(', ')} in the Block Public Access of ${where(bucket, accountId, region)} (${bucket ? 'PutPublicAccessBlock' : 'S3 Control PutPublicAccessBlock'}), restoring ${origin(recorded)}; it was ${now ? flags(now) : 'not set'}.`,
      undo: [putBack(bucket, accountId, region, now)],
    };
  },
  async verify({ clients, region, accountId, target }) {
    const { bucket, settings } = parsePublicAccessBlockTarget(target);
    const now = await currentBlock(clients, region, accountId, bucket);
    if (now === undefined) return { verified: true, reason: `GetPublicAccessBlock: bucket ${bucket} in ${region} no longer exists` };
    const off = settings.filter((k) => !now?.[k]);
    return off.length === 0
      ? { verified: true, reason: `GetPublicAccessBlock: ${where(bucket, accountId, region)} has ${settings.join(', ')} on` }
      : { verified: false, reason: `GetPublicAccessBlock: ${where(bucket, accountId, region)} still has ${off.join(', ')} off` };
  },
  undoSteps: ({ target, region, accountId }) => {
    const { bucket, settings, recorded } = parsePublicAccessBlockTarget(target);
    return [
      `Turn ${settings.join(', ')} off again in the Block Public Access of ${where(bucket, accountId, region)} (these were turned on as ${origin(recorded)}); the exact command with the settings found before is in the Run Approved Action detail, e.g. ${putBack(bucket, accountId, region, null)} when there were none.`,
    ];
  },
});

// ---------- revert-bucket-acl ----------

const GROUP_URI = {
  AllUsers: 'http://acs.amazonaws.com/groups/global/AllUsers',
  AuthenticatedUsers: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers',
};

async function bucketAcl(
  clients: TargetClients,
  region: string,
  accountId: string,
  bucket: string,
): Promise<{ Owner?: Owner; Grants: Grant[] } | undefined> {
  try {
    const out = await clients.s3(region).send(new GetBucketAclCommand({ Bucket: bucket, ExpectedBucketOwner: accountId }));
    return { ...(out.Owner ? { Owner: out.Owner } : {}), Grants: out.Grants ?? [] };
  } catch (error) {
    if (error instanceof Error && error.name === 'NoSuchBucket') return undefined;
    // Without the grants to keep nothing is changed: AccessDeniedError or AwsCallError, naming the bucket.
    throw typedAwsError(`s3:GetBucketAcl (bucket ${bucket} in ${region}: the ACL could not be read, so nothing was changed)`, error);
  }
}

/** The grants of the ACL that the target names (a group and a permission). */
const publicGrants = (grants: Grant[], wanted: ReturnType<typeof parseAclTarget>['grants']) =>
  grants.filter((g) =>
    wanted.some((w) => g.Grantee?.Type === 'Group' && g.Grantee.URI === GROUP_URI[w.group] && g.Permission === w.permission),
  );

const grantText = (grants: ReturnType<typeof parseAclTarget>['grants']) => grants.map((g) => `${g.group} ${g.permission}`).join(', ');

/** The CLI command that puts the whole ACL back as it was (put-bucket-acl replaces the ACL). */
const aclBack = (bucket: string, region: string, acl: { Owner?: Owner; Grants: Grant[] }) =>
  `aws s3api put-bucket-acl --bucket ${bucket} --access-control-policy '${JSON.stringify(acl)}' --region ${region}`;

export const revertBucketAclMeta: RemediationMeta<'revert-bucket-acl'> = {
  action: 'revert-bucket-acl',
  runsIn: 'target-account',
  permissions: { run: ['s3:GetBucketAcl', 's3:PutBucketAcl'], verify: ['s3:GetBucketAcl'] },
  reversible: true,
  approvals: 1,
};

export const revertBucketAcl = /* @__PURE__ */ defineRemediation(revertBucketAclMeta, {
  async run({ clients, region, accountId, target }) {
    const { bucket, grants } = parseAclTarget(target);
    const acl = await bucketAcl(clients, region, accountId, bucket);
    if (!acl) return { status: 'done', detail: `Bucket ${bucket} no longer exists in ${region}: nothing to remove.`, undo: [] };
    const present = publicGrants(acl.Grants, grants);
    if (present.length === 0)
      return {
        status: 'done',
        detail: `Bucket ${bucket} in ${region} no longer grants ${grantText(grants)}: nothing to remove.`,
        undo: [],
      };
    const kept = acl.Grants.filter((g) => !present.includes(g));
    await unlessAbsent(
      `s3:PutBucketAcl (bucket ${bucket} in ${region})`,
      () =>
        clients.s3(region).send(
          new PutBucketAclCommand({
            Bucket: bucket,
            ExpectedBucketOwner: accountId,
            AccessControlPolicy: { ...(acl.Owner ? { Owner: acl.Owner } : {}), Grants: kept },
          }),
        ),
      [],
    );
    return {
      status: 'done',
      detail: `Removed from the ACL of bucket ${bucket} in ${region} (PutBucketAcl): ${present.map((g) => `${g.Grantee!.URI!.split('/').pop()} ${g.Permission}`).join(', ')}; kept the owner and ${kept.length} other grant${kept.length === 1 ? '' : 's'}.`,
      undo: [aclBack(bucket, region, acl)],
    };
  },
  async verify({ clients, region, accountId, target }) {
    const { bucket, grants } = parseAclTarget(target);
    const acl = await bucketAcl(clients, region, accountId, bucket);
    if (!acl) return { verified: true, reason: `GetBucketAcl: bucket ${bucket} in ${region} no longer exists` };
    const left = publicGrants(acl.Grants, grants);
    return left.length === 0
      ? { verified: true, reason: `GetBucketAcl: bucket ${bucket} in ${region} grants none of ${grantText(grants)}` }
      : {
          verified: false,
          reason: `GetBucketAcl: bucket ${bucket} in ${region} still grants ${left.map((g) => `${g.Grantee!.URI!.split('/').pop()} ${g.Permission}`).join(', ')}`,
        };
  },
  undoSteps: ({ target, region }) => {
    const { bucket, grants } = parseAclTarget(target);
    return [
      `Put the ACL of bucket ${bucket} in ${region} back as it was (aws s3api put-bucket-acl --bucket ${bucket} --access-control-policy '<the ACL>' --region ${region}; the Run Approved Action detail gives the exact command), which grants ${grantText(grants)} again.`,
    ];
  },
});
