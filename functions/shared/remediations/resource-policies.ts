import { LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { GetKeyPolicyCommand, NotFoundException, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { DeleteBucketPolicyCommand, GetBucketPolicyCommand, NoSuchBucket, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import type { TargetClients } from '../clients';
import type { Clock } from '../clock';
import { errorCodeOf, eventName, obj, parseLookupEvent, str } from '../cloudtrail';
import { awsCall, isAwsError, typedAwsError } from '../errors';
import { parsePolicyTarget, type PolicyTarget } from '../exposure';
import type { LimiterPool } from '../rate-limit';
import { policyResource, policyText, stillGranted, whomText } from '../resource-policy';
import { defineRemediation, type RemediationMeta, type RunOutcome } from './types';

/**
 * A bucket policy or KMS key policy root opened to anyone or to a foreign account, put back to what
 * CloudTrail recorded before root's change in the incident window (the event the target names, read
 * again by its id): the earlier policy (PutBucketPolicy / PutKeyPolicy), or no bucket policy at all
 * when a DeleteBucketPolicy came before (DeleteBucketPolicy). With nothing recorded, nothing is
 * changed: deleting a policy nobody saw could drop statements the owners need, so a person replaces
 * it (the approval task shows root's policy) and the run and the check read it back by API. Both
 * are reversible: the undo puts root's policy back, which re-exposes the resource.
 */
const LOOKBACK_DAYS = 90;

type Kind = 'revert-bucket-policy' | 'revert-key-policy';

/** The resource's policy now: `gone` (no such bucket or key), or its text (null: none). */
async function currentPolicy(
  kind: Kind,
  clients: TargetClients,
  region: string,
  id: string,
): Promise<{ gone: true } | { policy: string | null }> {
  try {
    if (kind === 'revert-bucket-policy') {
      const out = await clients.s3(region).send(new GetBucketPolicyCommand({ Bucket: id }));
      return { policy: out.Policy ?? null };
    }
    const out = await clients.kms(region).send(new GetKeyPolicyCommand({ KeyId: id, PolicyName: 'default' }));
    return { policy: out.Policy ?? null };
  } catch (error) {
    // S3 has no modeled class for NoSuchBucketPolicy: its ServiceException carries the code as its name.
    if (error instanceof Error && error.name === 'NoSuchBucketPolicy') return { policy: null };
    if (isAwsError(error, NoSuchBucket, NotFoundException)) return { gone: true };
    throw typedAwsError(kind === 'revert-bucket-policy' ? 's3:GetBucketPolicy' : 'kms:GetKeyPolicy', error);
  }
}

/** The policy the event the target names set, read again from CloudTrail (LookupEvents by EventId), if it still holds it. */
async function recordedPolicy(
  ctx: { clients: TargetClients; limiters: LimiterPool; accountId: string; region: string; clock: Clock },
  kind: Kind,
  t: PolicyTarget,
): Promise<string | undefined> {
  if (t.before.state !== 'policy') return undefined;
  const now = ctx.clock.now();
  await ctx.limiters.for(`${ctx.accountId}:${ctx.region}`).take();
  const out = await awsCall('cloudtrail:LookupEvents', () =>
    ctx.clients.cloudtrail(ctx.region).send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: t.before.state === 'policy' ? t.before.event : '' }],
        StartTime: new Date(now.getTime() - LOOKBACK_DAYS * 86_400_000),
        EndTime: now,
        MaxResults: 50,
      }),
    ),
  );
  for (const e of out.Events ?? []) {
    const record = parseLookupEvent(e);
    if (!record || errorCodeOf(record)) continue;
    const p = obj(record['requestParameters']);
    // Only the call the target names, on the same resource: an event id can name nothing else.
    if (kind === 'revert-bucket-policy' && eventName(record) === 'PutBucketPolicy' && str(p?.['bucketName']) === t.id)
      return policyText(p?.['bucketPolicy'] ?? p?.['policy']);
    if (kind === 'revert-key-policy' && eventName(record) === 'PutKeyPolicy' && str(p?.['keyId']) === t.id && str(p?.['policy']))
      return str(p?.['policy']);
  }
  return undefined;
}

/** A policy inside a shell command: compact JSON in single quotes, or a pointer to the event when it is long or not read yet. */
function quoted(policy: string | null): string {
  if (policy === null || policy.length > 1500)
    return "file://root-policy.json (the policy root set: the finding's event in the evidence bundle)";
  return `'${policy.replace(/'/g, `'\\''`)}'`;
}

function entry(kind: Kind, meta: RemediationMeta<Kind>) {
  return defineRemediation(meta, {
    async run(ctx): Promise<RunOutcome> {
      const { clients, region, target, accountId } = ctx;
      const t = parsePolicyTarget(target);
      const r = policyResource(kind, t.id, region);
      const now = await currentPolicy(kind, clients, region, t.id);
      if ('gone' in now) return { status: 'done', detail: `${r.what} no longer exists in ${region}: nothing to revert.`, undo: [] };
      const left = stillGranted(now.policy, accountId, t.grantees);
      if (left.length === 0)
        return {
          status: 'done',
          detail: `${r.what} in ${region} no longer grants ${whomText(t.grantees)} (${r.read}${now.policy === null ? ': no policy' : ''}): nothing to change.`,
          undo: [],
        };
      const putBack = `${r.put(quoted(now.policy))} (puts root's policy back: re-exposes it to ${whomText(left)})`;
      if (kind === 'revert-bucket-policy' && t.before.state === 'none') {
        await awsCall('s3:DeleteBucketPolicy', () => clients.s3(region).send(new DeleteBucketPolicyCommand({ Bucket: t.id })));
        return {
          status: 'done',
          detail: `Deleted the policy root set on ${r.what} in ${region} (DeleteBucketPolicy): it had none before (event ${t.before.event}).`,
          undo: [putBack],
        };
      }
      const previous = await recordedPolicy(ctx, kind, t);
      if (previous !== undefined) {
        await awsCall(kind === 'revert-bucket-policy' ? 's3:PutBucketPolicy' : 'kms:PutKeyPolicy', () =>
          kind === 'revert-bucket-policy'
            ? clients.s3(region).send(new PutBucketPolicyCommand({ Bucket: t.id, Policy: previous }))
            : clients.kms(region).send(new PutKeyPolicyCommand({ KeyId: t.id, PolicyName: 'default', Policy: previous })),
        );
        return {
          status: 'done',
          detail: `Put back the policy ${r.what} had before root's change in ${region} (${kind === 'revert-bucket-policy' ? 'PutBucketPolicy' : 'PutKeyPolicy'}), as CloudTrail recorded it (event ${t.before.state === 'policy' ? t.before.event : ''}).`,
          undo: [putBack],
        };
      }
      const why =
        t.before.state === 'policy'
          ? `CloudTrail no longer holds event ${t.before.event} (the policy before root's)`
          : `CloudTrail recorded no policy of ${r.what} before root's`;
      return {
        status: 'skipped',
        detail: `${why}: nothing was changed. ${r.what} in ${region} still grants ${whomText(left)} (${r.read}); a person replaces its policy (the task's steps). Its policy now: ${(now.policy ?? '').slice(0, 1500)}`,
      };
    },
    async verify({ clients, region, target, accountId }) {
      const t = parsePolicyTarget(target);
      const r = policyResource(kind, t.id, region);
      const now = await currentPolicy(kind, clients, region, t.id);
      if ('gone' in now) return { verified: true, reason: `${r.read}: ${r.what} no longer exists in ${region}` };
      const left = stillGranted(now.policy, accountId, t.grantees);
      return left.length === 0
        ? {
            verified: true,
            reason: `${r.read}: ${r.what} in ${region} ${now.policy === null ? 'has no policy' : `grants neither everyone (*) nor ${whomText(t.grantees.filter((g) => g !== '*')) || 'a foreign account'}`}`,
          }
        : { verified: false, reason: `${r.read}: ${r.what} in ${region} still grants ${whomText(left)}` };
    },
    undoSteps: ({ target, region }) => {
      const t = parsePolicyTarget(target);
      const r = policyResource(kind, t.id, region);
      return [`${r.put(quoted(null))} (puts root's policy back: re-exposes it to ${whomText(t.grantees)})`];
    },
  });
}

export const revertBucketPolicyMeta: RemediationMeta<'revert-bucket-policy'> = {
  action: 'revert-bucket-policy',
  runsIn: 'target-account',
  permissions: {
    run: ['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy', 'cloudtrail:LookupEvents'],
    verify: ['s3:GetBucketPolicy'],
  },
  reversible: true,
  approvals: 1,
};

export const revertKeyPolicyMeta: RemediationMeta<'revert-key-policy'> = {
  action: 'revert-key-policy',
  runsIn: 'target-account',
  permissions: { run: ['kms:GetKeyPolicy', 'kms:PutKeyPolicy', 'cloudtrail:LookupEvents'], verify: ['kms:GetKeyPolicy'] },
  reversible: true,
  approvals: 1,
};

export const revertBucketPolicy = /* @__PURE__ */ entry('revert-bucket-policy', revertBucketPolicyMeta);
export const revertKeyPolicy = /* @__PURE__ */ entry('revert-key-policy', revertKeyPolicyMeta);
