import { accountOfPrincipal, classifyGrantees, type Exposure, parsePolicyTarget, policyPrincipals } from './exposure';
import { slug } from './text';

/**
 * Bucket and key policies root opened to anyone or to a foreign account, in the words and checks
 * their undo needs (remediations/resource-policies.ts runs them). Pure.
 */

/** A policy document as S3 and KMS take it: CloudTrail records S3's as an object, KMS's as a string. */
export function policyText(policy: unknown): string {
  return typeof policy === 'string' ? policy : JSON.stringify(policy ?? null);
}

/** At most this many characters of a policy are shown in a task or a result (the rest is in the evidence bundle). */
export const POLICY_SHOWN = 4000;

/** The policy pretty-printed (2 spaces) for a person to read, cut at `max` characters with a note saying so. */
export function prettyPolicy(policy: unknown, max = POLICY_SHOWN): string {
  let doc: unknown = policy;
  if (typeof policy === 'string') {
    try {
      doc = JSON.parse(policy);
    } catch {
      doc = policy;
    }
  }
  const text = typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2);
  return text.length > max ? `${text.slice(0, max)} ... (${text.length - max} more characters: the event in the evidence bundle)` : text;
}

/**
 * Whom a policy (as GetBucketPolicy / GetKeyPolicy return it; null: none) still grants of those the
 * undo target names: `*` when any Allow statement is open to anyone (whoever root named), and each
 * named foreign account a statement still names. Empty: no longer exposed.
 */
export function stillGranted(policy: string | null, accountId: string, grantees: string[]): string[] {
  if (policy === null) return [];
  const { principals } = policyPrincipals(policy);
  const open = classifyGrantees(principals, { accountId }).public ? ['*'] : [];
  const accounts = grantees.filter((g) => g !== '*' && principals.some((p) => accountOfPrincipal(p) === g));
  return [...open, ...accounts];
}

/** "everyone (*)" / "account 444455556666" / both, for a sentence. */
export function whomText(grantees: string[]): string {
  const accounts = grantees.filter((g) => g !== '*');
  return [
    ...(grantees.includes('*') ? ['everyone (*)'] : []),
    ...(accounts.length ? [`${accounts.length === 1 ? 'account' : 'accounts'} ${accounts.join(', ')}`] : []),
  ].join(' and ');
}

/** How the two kinds name their resource and the CLI that puts a policy. */
export function policyResource(kind: 'revert-bucket-policy' | 'revert-key-policy', id: string, region: string) {
  return kind === 'revert-bucket-policy'
    ? {
        what: `S3 bucket ${id}`,
        put: (policy: string) => `aws s3api put-bucket-policy --bucket ${id} --policy ${policy} --region ${region}`,
        read: 'GetBucketPolicy',
      }
    : {
        what: `KMS key ${id}`,
        put: (policy: string) => `aws kms put-key-policy --key-id ${id} --policy-name default --policy ${policy} --region ${region}`,
        read: 'GetKeyPolicy',
      };
}

/**
 * The approval task of a policy undo: its id, its words, and, when CloudTrail recorded nothing the
 * responder could put back, the steps a person follows with the policy root set shown
 * (pretty-printed; each output escapes it by its own rule, text.ts). Undefined for any other undo.
 */
export function policyUndoTask(
  exposure: Exposure,
  target: string,
  title: string,
): { id: string; undo: string; steps?: string[] } | undefined {
  const kind = exposure.undo.kind;
  if (kind !== 'revert-bucket-policy' && kind !== 'revert-key-policy') return undefined;
  const t = parsePolicyTarget(target);
  const region = exposure.resource.region;
  const r = policyResource(kind, t.id, region);
  const rootPolicy = kind === 'revert-bucket-policy' ? exposure.change['bucketPolicy'] : exposure.change['policy'];
  const whom = whomText(t.grantees);
  const reexposes = `reversible: the undo puts root's policy back, which opens it to ${whom} again`;
  if (t.before.state === 'policy')
    return {
      id: `${kind}-${slug(t.id)}`.slice(0, 80),
      undo: `Put back the policy ${r.what} had before root's change, as CloudTrail recorded it (event ${t.before.event}), in ${region} (${reexposes}): ${title}`,
    };
  if (t.before.state === 'none')
    return {
      id: `${kind}-${slug(t.id)}`.slice(0, 80),
      undo: `Delete the policy root set on ${r.what} in ${region}: it had none before (DeleteBucketPolicy, event ${t.before.event}) (${reexposes}): ${title}`,
    };
  const event = exposure.event.id;
  const safe =
    kind === 'revert-bucket-policy'
      ? `or delete it (aws s3api delete-bucket-policy --bucket ${t.id} --region ${region}) if the bucket needs none`
      : 'keeping the statements that give your own account administration of the key';
  return {
    id: `make-${kind === 'revert-bucket-policy' ? 'bucket' : 'key'}-policy-private-${slug(t.id)}`.slice(0, 80),
    undo: `By hand: make the policy of ${r.what} in ${region} grant nobody outside the account (CloudTrail recorded no policy before root's), then approve; checked by ${r.read}: ${title}`,
    steps: [
      `CloudTrail recorded no policy of ${r.what} before root's change in the incident window: the responder cannot put the previous one back, and ${kind === 'revert-bucket-policy' ? 'deleting the policy could remove statements your applications or your own Deny rules need' : 'a key policy cannot be deleted'}.`,
      `Replace the policy with one that grants neither everyone (*) nor an account outside yours (root's grants ${whom}): ${r.put('file://policy.json')}, ${safe}.`,
      `Approve when it is done: the responder reads the policy back (${r.read}) and changes nothing itself; reject to leave it to people.`,
      `The policy root set (event ${event}):\n${prettyPolicy(rootPolicy)}`,
    ],
  };
}
