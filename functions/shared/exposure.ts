import { asText, slug } from './text';
import { errorCodeOf, eventName, eventSource, type JsonObject, obj, str } from './cloudtrail';
import { InvalidStepInputError } from './errors';
import type { Severity } from './triage';

/**
 * Exposure and abuse: what a call made reachable from outside the account, and to whom, or what
 * compute it started. Each change carries the exact data an undo needs (the resource, what was
 * added, by which event) and names the undo it will use. Pure.
 *
 * A foreign account is one outside the organization (organization mode, when its accounts are
 * known) or any account other than the account itself (standalone).
 */

/** How each exposure will be undone; `reversible`: whether the undo can itself be undone without loss. */
export const UNDO_KINDS = {
  'remove-launch-permission': { reversible: true },
  'remove-snapshot-share': { reversible: true },
  'remove-db-snapshot-share': { reversible: true },
  'revoke-security-group-ingress': { reversible: true },
  'restore-public-access-block': { reversible: true },
  'revert-bucket-policy': { reversible: true },
  'revert-bucket-acl': { reversible: true },
  'revert-key-policy': { reversible: true },
  /** A grant put back is a new grant: a new id and token (the undo command creates an equivalent one). */
  'revoke-kms-grant': { reversible: false },
  'remove-lambda-permission': { reversible: true },
  /** The URL is kept (deleting it would change it if recreated); its auth type goes back to AWS_IAM. */
  'require-function-url-auth': { reversible: true },
  'disassociate-resource-share': { reversible: true },
  'stop-instances': { reversible: true },
  /** A quota request cannot be withdrawn by API; a person reviews it (and the bill). */
  'review-quota-request': { reversible: false },
  /** Deleting a function loses it; a person decides. */
  'review-function': { reversible: false },
} as const;
export type UndoKind = keyof typeof UNDO_KINDS;

export const EXPOSURE_KINDS = [
  'ami-launch-permission',
  'ebs-snapshot-share',
  'rds-snapshot-share',
  'rds-cluster-snapshot-share',
  's3-bucket-policy',
  's3-bucket-acl',
  's3-public-access-block',
  'security-group-ingress',
  'kms-key-policy',
  'kms-grant',
  'lambda-permission',
  'lambda-function-url',
  'ram-resource-share',
  'ec2-instances',
  'service-quota-increase',
  'lambda-function',
] as const;
export type ExposureKind = (typeof EXPOSURE_KINDS)[number];

/** What changed, exactly, for the undo; kept on the finding (`exposure`). */
export interface Exposure {
  kind: ExposureKind;
  resource: { type: string; id: string; region: string };
  /** Who it was opened to: "all" (anyone), "AllUsers", account ids, ARNs; empty for compute. */
  grantees: string[];
  public: boolean;
  /** The grantees outside the organization (or the account). */
  foreign: string[];
  /** The request's own words for what was added or turned off, as the undo replays it in reverse. */
  change: JsonObject;
  /** The previous value when CloudTrail recorded it in the window (bucket policy), else null. */
  previous: unknown;
  /** `proposed`: the remediation registry runs it after approval (BUILT_UNDOS); `not-implemented`: a person does it. */
  undo: { kind: UndoKind; reversible: boolean; status: 'not-implemented' | 'proposed' };
  event: { id: string; at: string; sourceIPAddress: string | null; failed: string | null };
}

export interface ExposureContext {
  /** The affected account. */
  accountId: string;
  /** Organization mode: the organization's accounts, when known (else only the account itself is "own"). */
  organizationAccounts?: ReadonlySet<string>;
  /** Organization mode, but its accounts could not be listed (why): every other account is counted as foreign. */
  organizationAccountsUnavailable?: string;
}

export interface ExposureFinding {
  id: string;
  category: 'exposure' | 'compute-abuse';
  severity: Severity;
  title: string;
  detail: string;
  evidence: string[];
  exposure: Exposure;
}

/** One event as exposure rules see it. */
export interface ExposureEvent {
  id: string;
  at: string;
  region: string;
  record: JsonObject;
  /** Who made the call, when not root (an IAM user root created). */
  actor?: string;
}

const params = (r: JsonObject) => obj(r['requestParameters']) ?? {};
const response = (r: JsonObject) => obj(r['responseElements']) ?? {};
const items = (v: unknown): JsonObject[] => {
  const list = obj(v)?.['items'] ?? v;
  return Array.isArray(list) ? list.filter((x): x is JsonObject => typeof x === 'object' && x !== null) : [];
};
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];

/** The account id a principal names (12 digits, or an ARN's account field), if any. */
export function accountOfPrincipal(principal: string): string | undefined {
  if (/^\d{12}$/.test(principal)) return principal;
  const arn = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(principal);
  return arn?.[1];
}

/** Anyone: "*", the "all" group, an S3 global group, or an address range covering the whole internet. */
const isPublicPrincipal = (p: string) => ['*', 'all', '0.0.0.0/0', '::/0'].includes(p) || /^(AllUsers|AuthenticatedUsers)\b/.test(p);

/** Split grantees into public and foreign (outside the organization or the account); service principals are neither. */
export function classifyGrantees(grantees: string[], ctx: ExposureContext): { public: boolean; foreign: string[] } {
  const own = (account: string) => account === ctx.accountId || (ctx.organizationAccounts?.has(account) ?? false);
  const foreign = grantees.filter((g) => {
    if (isPublicPrincipal(g)) return false;
    const account = accountOfPrincipal(g);
    return account !== undefined && !own(account);
  });
  return { public: grantees.some(isPublicPrincipal), foreign: [...new Set(foreign)] };
}

/** The principals of a policy document (object or JSON string): every Allow statement's AWS principals and "*". */
export function policyPrincipals(policy: unknown): { principals: string[]; conditioned: boolean } {
  let doc: unknown = policy;
  if (typeof policy === 'string') {
    try {
      doc = JSON.parse(policy);
    } catch {
      return { principals: [], conditioned: false };
    }
  }
  const statements = obj(doc)?.['Statement'];
  const list = (Array.isArray(statements) ? statements : [statements]).filter((s): s is JsonObject => typeof s === 'object' && s !== null);
  const principals: string[] = [];
  let conditioned = false;
  for (const s of list) {
    if (str(s['Effect']) !== 'Allow') continue;
    const p = s['Principal'];
    const found = typeof p === 'string' ? [p] : [...strings(obj(p)?.['AWS']), ...strings(obj(p)?.['CanonicalUser'])];
    if (found.some(isPublicPrincipal) && s['Condition'] !== undefined) conditioned = true;
    principals.push(...found);
  }
  return { principals: [...new Set(principals)], conditioned };
}

const ONE_WORD: Record<string, string> = { '-1': 'all protocols', tcp: 'TCP', udp: 'UDP', icmp: 'ICMP', icmpv6: 'ICMPv6' };

function portsOf(p: JsonObject): string {
  const protocol = asText(p['ipProtocol'] ?? '');
  if (protocol === '-1') return 'all ports, all protocols';
  const from = p['fromPort'];
  const to = p['toPort'];
  const name = ONE_WORD[protocol] ?? `protocol ${protocol}`;
  if (from === undefined || from === -1) return `all ${name} ports`;
  return from === to ? `${name} port ${asText(from)}` : `${name} ports ${asText(from)}-${asText(to)}`;
}

const S3_GROUP = /^https?:\/\/acs\.amazonaws\.com\/groups\/global\/(AllUsers|AuthenticatedUsers)$/;
/** The four S3 Block Public Access settings, in the order S3 documents them. */
export const PUBLIC_ACCESS_BLOCKS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;
export type PublicAccessBlockSetting = (typeof PUBLIC_ACCESS_BLOCKS)[number];
const PUBLIC_CANNED_ACL = new Set(['public-read', 'public-read-write', 'authenticated-read']);

/** Instance families with GPUs or ML accelerators (the usual target of compute abuse). */
const GPU_FAMILY = /^(p\d|g\d|gr\d|inf\d|trn\d|dl\d|f\d|vt\d)[a-z]*\./;
export const isGpuType = (type: string) => GPU_FAMILY.test(type);

interface Draft {
  kind: ExposureKind;
  resource: { type: string; id: string };
  grantees: string[];
  change: JsonObject;
  undo: UndoKind;
  /** What it is, in a responder's words, without "to whom" (added from the grantees). */
  what: string;
  /** Set when the change opens nothing to anyone by itself (a block turned off, a quota asked for). */
  severityIfNoGrantee?: Severity;
  previous?: unknown;
  /** A bucket or key policy: its key in RecordedPolicies and what it had before this change (kept when this one opened it). */
  recorded?: { key: string; before: { policy: unknown; event: string } | undefined };
}

/**
 * A resource policy as CloudTrail recorded it earlier in the window, by resource ("bucket" or "kms:key"):
 * the document (null: DeleteBucketPolicy left none) and the event that set it, for the undo to read again.
 */
type RecordedPolicies = Map<string, { policy: unknown; event: string }>;

/** The exposure one event makes, or undefined when it makes none this module knows. */
function draftOf(record: JsonObject, previousPolicies: RecordedPolicies): Draft | undefined {
  const name = eventName(record);
  const source = eventSource(record);
  const p = params(record);
  if (source === 'ec2.amazonaws.com' && name === 'ModifyImageAttribute') {
    const added = items(obj(obj(p['launchPermission'])?.['add']));
    if (added.length === 0) return undefined;
    const id = str(p['imageId']) ?? 'an AMI';
    return {
      kind: 'ami-launch-permission',
      resource: { type: 'AMI', id },
      grantees: added.map(
        (g) => str(g['group']) ?? str(g['userId']) ?? str(g['organizationArn']) ?? str(g['organizationalUnitArn']) ?? '?',
      ),
      change: { imageId: id, launchPermission: { add: added } },
      undo: 'remove-launch-permission',
      what: `AMI ${id} launch permission granted`,
    };
  }
  if (source === 'ec2.amazonaws.com' && name === 'ModifySnapshotAttribute') {
    const added = items(obj(obj(p['createVolumePermission'])?.['add']));
    if (added.length === 0) return undefined;
    const id = str(p['snapshotId']) ?? 'an EBS snapshot';
    return {
      kind: 'ebs-snapshot-share',
      resource: { type: 'EBS snapshot', id },
      grantees: added.map((g) => str(g['group']) ?? str(g['userId']) ?? '?'),
      change: { snapshotId: id, createVolumePermission: { add: added } },
      undo: 'remove-snapshot-share',
      what: `EBS snapshot ${id} shared (createVolumePermission)`,
    };
  }
  if (source === 'rds.amazonaws.com' && (name === 'ModifyDBSnapshotAttribute' || name === 'ModifyDBClusterSnapshotAttribute')) {
    const added = strings(p['valuesToAdd']);
    if (str(p['attributeName']) !== 'restore' || added.length === 0) return undefined;
    const cluster = name === 'ModifyDBClusterSnapshotAttribute';
    const id = str(p[cluster ? 'dBClusterSnapshotIdentifier' : 'dBSnapshotIdentifier']) ?? 'a snapshot';
    return {
      kind: cluster ? 'rds-cluster-snapshot-share' : 'rds-snapshot-share',
      resource: { type: cluster ? 'RDS cluster snapshot' : 'RDS snapshot', id },
      grantees: added,
      change: { [cluster ? 'dBClusterSnapshotIdentifier' : 'dBSnapshotIdentifier']: id, attributeName: 'restore', valuesToAdd: added },
      undo: 'remove-db-snapshot-share',
      what: `${cluster ? 'RDS cluster snapshot' : 'RDS snapshot'} ${id} shared for restore`,
    };
  }
  // What the bucket or key had before: each successful change is remembered for the next one's undo.
  const recorded = (key: string, policy: unknown) => {
    const before = previousPolicies.get(key);
    if (!errorCodeOf(record)) previousPolicies.set(key, { policy, event: str(record['eventID']) ?? '' });
    return {
      before,
      recorded: { key, before },
      ...(before?.event ? { previousEvent: { [before.policy === null ? 'none' : 'policy']: before.event } } : {}),
    };
  };
  if (source === 's3.amazonaws.com' && name === 'DeleteBucketPolicy') {
    recorded(str(p['bucketName']) ?? 'a bucket', null);
    return undefined;
  }
  if (source === 's3.amazonaws.com' && name === 'PutBucketPolicy') {
    const bucket = str(p['bucketName']) ?? 'a bucket';
    const policy = p['bucketPolicy'] ?? p['policy'];
    const { principals, conditioned } = policyPrincipals(policy);
    const { before, previousEvent, recorded: memo } = recorded(bucket, policy);
    const previous = before?.policy ?? null;
    return {
      kind: 's3-bucket-policy',
      resource: { type: 'S3 bucket', id: bucket },
      grantees: principals,
      change: { bucketName: bucket, bucketPolicy: policy, ...(previousEvent ? { previousEvent } : {}) },
      undo: 'revert-bucket-policy',
      what: `S3 bucket ${bucket} policy set${conditioned ? ' (the public statement has a Condition: read it)' : ''}`,
      previous,
      recorded: memo,
    };
  }
  if (source === 's3.amazonaws.com' && name === 'PutBucketAcl') {
    const bucket = str(p['bucketName']) ?? 'a bucket';
    const list = obj(obj(p['AccessControlPolicy'])?.['AccessControlList'])?.['Grant'];
    const granted = (Array.isArray(list) ? list : [list]).filter((g): g is JsonObject => typeof g === 'object' && g !== null);
    const groups = granted
      .map((g) => ({ uri: str(obj(g['Grantee'])?.['URI']) ?? '', permission: str(g['Permission']) ?? '' }))
      .filter((g) => S3_GROUP.test(g.uri));
    const canned = strings(p['x-amz-acl']).filter((a) => PUBLIC_CANNED_ACL.has(a));
    if (groups.length === 0 && canned.length === 0) return undefined;
    return {
      kind: 's3-bucket-acl',
      resource: { type: 'S3 bucket', id: bucket },
      grantees: [
        ...groups.map((g) => `${S3_GROUP.exec(g.uri)![1]!} (${g.permission})`),
        ...canned.map((a) => (a === 'authenticated-read' ? 'AuthenticatedUsers' : `AllUsers (${a})`)),
      ],
      change: { bucketName: bucket, grants: groups, cannedAcl: canned },
      undo: 'revert-bucket-acl',
      what: `S3 bucket ${bucket} ACL granted`,
    };
  }
  if (source === 's3.amazonaws.com' && /^(Put|Delete)(Bucket|Account)?PublicAccessBlock$/.test(name)) {
    // Bucket level: PutBucketPublicAccessBlock / DeleteBucketPublicAccessBlock (bucketName); account
    // level (S3 Control, recorded by s3.amazonaws.com): PutAccountPublicAccessBlock / DeleteAccountPublicAccessBlock.
    const bucket = name.includes('Account') ? undefined : (str(p['bucketName']) ?? 'an unrecorded bucket');
    const scope = bucket ? `bucket:${bucket}` : 'account';
    const deleted = name.startsWith('Delete');
    const config = obj(p['PublicAccessBlockConfiguration']);
    // A Put replaces the whole configuration: a setting it leaves out is false (each is optional, false unless set).
    if (!deleted && !config) return undefined;
    const on = (k: string) => config?.[k] === true || config?.[k] === 'true';
    const setting = deleted ? undefined : Object.fromEntries(PUBLIC_ACCESS_BLOCKS.map((k) => [k, on(k)]));
    const off = PUBLIC_ACCESS_BLOCKS.filter((k) => deleted || !on(k));
    // What was on before root's first change of this scope in the window: the configuration an earlier Put recorded, if any.
    const before = previousPolicies.get(`pab:${scope}`)?.policy ?? null;
    if (off.length === 0) {
      if (!previousPolicies.has(`pab-changed:${scope}`))
        previousPolicies.set(`pab:${scope}`, { policy: setting, event: str(record['eventID']) ?? '' });
      return undefined;
    }
    previousPolicies.set(`pab-changed:${scope}`, { policy: true, event: '' });
    const where = bucket ? `bucket ${bucket}` : 'the account';
    return {
      kind: 's3-public-access-block',
      resource: { type: bucket ? 'S3 bucket' : 'S3 account setting', id: bucket ?? 'account public access block' },
      grantees: [],
      change: {
        ...(bucket ? { bucketName: bucket } : { scope: 'account' }),
        turnedOff: off,
        deleted,
        ...(setting ? { configuration: setting } : {}),
      },
      undo: 'restore-public-access-block',
      what: `S3 Block Public Access ${deleted ? 'removed' : `turned off (${off.join(', ')})`} for ${where}`,
      severityIfNoGrantee: 'high',
      previous: before,
    };
  }
  if (source === 'ec2.amazonaws.com' && name === 'AuthorizeSecurityGroupIngress') {
    const group = str(p['groupId']) ?? str(p['groupName']) ?? 'a security group';
    const open: { permission: JsonObject; cidrs: string[] }[] = [];
    for (const permission of items(p['ipPermissions'])) {
      const cidrs = [
        ...items(permission['ipRanges']).map((r) => str(r['cidrIp']) ?? ''),
        ...items(permission['ipv6Ranges']).map((r) => str(r['cidrIpv6']) ?? ''),
      ].filter((c) => c === '0.0.0.0/0' || c === '::/0');
      if (cidrs.length) open.push({ permission, cidrs });
    }
    // The legacy form (no ipPermissions): cidrIp with ipProtocol/fromPort/toPort at the top.
    if (open.length === 0 && (str(p['cidrIp']) === '0.0.0.0/0' || str(p['cidrIpv6']) === '::/0'))
      open.push({ permission: p, cidrs: [str(p['cidrIp']) ?? str(p['cidrIpv6'])!] });
    if (open.length === 0) return undefined;
    const ruleIds = items(response(record)['securityGroupRuleSet'])
      .map((r) => str(r['securityGroupRuleId']))
      .filter((x): x is string => !!x);
    return {
      kind: 'security-group-ingress',
      resource: { type: 'security group', id: group },
      grantees: [...new Set(open.flatMap((o) => o.cidrs))],
      change: {
        groupId: group,
        ipPermissions: open.map((o) => o.permission),
        ...(ruleIds.length ? { securityGroupRuleIds: ruleIds } : {}),
      },
      undo: 'revoke-security-group-ingress',
      what: `Security group ${group} opened on ${open.map((o) => `${portsOf(o.permission)} from ${o.cidrs.join(' and ')}`).join('; ')}`,
    };
  }
  if (source === 'kms.amazonaws.com' && name === 'PutKeyPolicy') {
    const key = str(p['keyId']) ?? 'a key';
    const { principals } = policyPrincipals(p['policy']);
    const { before, previousEvent, recorded: memo } = recorded(`kms:${key}`, str(p['policy']) ?? null);
    return {
      kind: 'kms-key-policy',
      resource: { type: 'KMS key', id: key },
      grantees: principals,
      change: {
        keyId: key,
        policyName: str(p['policyName']) ?? 'default',
        policy: str(p['policy']) ?? null,
        ...(previousEvent ? { previousEvent } : {}),
      },
      undo: 'revert-key-policy',
      what: `KMS key ${key} policy set`,
      previous: before?.policy ?? null,
      recorded: memo,
    };
  }
  if (source === 'kms.amazonaws.com' && name === 'CreateGrant') {
    // CloudTrail records the key ARN in responseElements.keyId (since December 2022), whatever the request named.
    const key = str(response(record)['keyId']) ?? str(p['keyId']) ?? 'a key';
    const grantee = str(p['granteePrincipal']) ?? '?';
    const grantId = str(response(record)['grantId']) ?? null;
    return {
      kind: 'kms-grant',
      resource: { type: 'KMS key', id: key },
      grantees: [grantee, ...(str(p['retiringPrincipal']) ? [str(p['retiringPrincipal'])!] : [])],
      change: { keyId: key, grantId, granteePrincipal: grantee, operations: strings(p['operations']) },
      undo: 'revoke-kms-grant',
      what: `KMS key ${key} grant ${grantId ?? ''} (${strings(p['operations']).join(', ') || 'operations not recorded'}) created`.replace(
        '  ',
        ' ',
      ),
    };
  }
  if (source === 'lambda.amazonaws.com' && name.startsWith('AddPermission')) {
    const fn = str(p['functionName']) ?? 'a function';
    const principal = str(p['principal']) ?? '?';
    return {
      kind: 'lambda-permission',
      resource: { type: 'Lambda function', id: fn },
      grantees: [principal],
      change: {
        functionName: fn,
        statementId: str(p['statementId']) ?? null,
        action: str(p['action']) ?? null,
        principal,
        ...Object.fromEntries(
          ['functionUrlAuthType', 'qualifier', 'sourceArn', 'sourceAccount', 'principalOrgID']
            .filter((k) => str(p[k]) !== undefined)
            .map((k) => [k, str(p[k])!]),
        ),
      },
      undo: 'remove-lambda-permission',
      what: `Lambda function ${fn} resource policy allows ${str(p['action']) ?? 'an action'}`,
    };
  }
  if (source === 'lambda.amazonaws.com' && /^(Create|Update)FunctionUrlConfig/.test(name)) {
    if (str(p['authType']) !== 'NONE') return undefined;
    const fn = str(p['functionName']) ?? 'a function';
    return {
      kind: 'lambda-function-url',
      resource: { type: 'Lambda function', id: fn },
      grantees: ['*'],
      change: {
        functionName: fn,
        authType: 'NONE',
        functionUrl: str(response(record)['functionUrl']) ?? null,
        ...(str(p['qualifier']) ? { qualifier: str(p['qualifier'])! } : {}),
      },
      undo: 'require-function-url-auth',
      what: `Lambda function ${fn} given a function URL with auth type NONE`,
    };
  }
  if (source === 'ram.amazonaws.com' && (name === 'CreateResourceShare' || name === 'AssociateResourceShare')) {
    const principals = strings(p['principals']);
    if (principals.length === 0) return undefined;
    const share =
      str(obj(response(record)['resourceShare'])?.['resourceShareArn']) ?? str(p['resourceShareArn']) ?? str(p['name']) ?? 'a share';
    return {
      kind: 'ram-resource-share',
      resource: { type: 'RAM resource share', id: share },
      grantees: principals,
      change: { resourceShareArn: share, principals, resourceArns: strings(p['resourceArns']) },
      undo: 'disassociate-resource-share',
      what: `Resource share ${share} (${strings(p['resourceArns']).length} resource(s)) shared`,
    };
  }
  if (source === 'servicequotas.amazonaws.com' && name === 'RequestServiceQuotaIncrease') {
    const quota = obj(response(record)['requestedQuota']);
    const code = `${str(p['serviceCode']) ?? '?'}/${str(p['quotaCode']) ?? '?'}`;
    return {
      kind: 'service-quota-increase',
      resource: { type: 'service quota', id: code },
      grantees: [],
      change: {
        serviceCode: str(p['serviceCode']) ?? null,
        quotaCode: str(p['quotaCode']) ?? null,
        desiredValue: p['desiredValue'] ?? null,
        requestId: str(quota?.['id']) ?? null,
      },
      undo: 'review-quota-request',
      what: `Quota increase requested: ${str(quota?.['quotaName']) ?? code} to ${asText(p['desiredValue'] ?? '?')}`,
      severityIfNoGrantee: 'high',
    };
  }
  if (source === 'lambda.amazonaws.com' && name.startsWith('CreateFunction') && !name.startsWith('CreateFunctionUrl')) {
    const fn = str(p['functionName']) ?? 'a function';
    return {
      kind: 'lambda-function',
      resource: { type: 'Lambda function', id: fn },
      grantees: [],
      change: { functionName: fn, runtime: str(p['runtime']) ?? null, role: str(p['role']) ?? null, handler: str(p['handler']) ?? null },
      undo: 'review-function',
      what: `Lambda function ${fn} created (role ${str(p['role']) ?? 'not recorded'})`,
      severityIfNoGrantee: 'high',
    };
  }
  return undefined;
}

/**
 * Exposure findings, one per change, and the compute root launched (RunInstances) summed per
 * region and instance type. Events that open nothing (a removal, an ingress from a private range)
 * are left for the caller's generic findings: `handled` holds the ids taken here.
 */
export function exposureFindings(events: ExposureEvent[], ctx: ExposureContext): { findings: ExposureFinding[]; handled: Set<string> } {
  const findings: ExposureFinding[] = [];
  const handled = new Set<string>();
  const previousPolicies: RecordedPolicies = new Map();
  const launches: { e: ExposureEvent; type: string; ids: string[]; count: number }[] = [];
  for (const e of [...events].sort((a, b) => a.at.localeCompare(b.at))) {
    const r = e.record;
    if (eventSource(r) === 'ec2.amazonaws.com' && eventName(r) === 'RunInstances') {
      const created = items(obj(response(r)['instancesSet']));
      const requested = items(obj(params(r)['instancesSet']));
      const type = str(params(r)['instanceType']) ?? str(created[0]?.['instanceType']) ?? 'unknown type';
      const count = created.length || Number(requested[0]?.['maxCount'] ?? requested[0]?.['minCount'] ?? 1) || 1;
      launches.push({
        e,
        type,
        ids: created.map((i) => str(i['instanceId'])).filter((x): x is string => !!x),
        count: errorCodeOf(r) ? 0 : count,
      });
      handled.add(e.id);
      continue;
    }
    const draft = draftOf(r, previousPolicies);
    if (!draft) continue;
    const who = classifyGrantees(draft.grantees, ctx);
    const failed = errorCodeOf(r) ?? null;
    const outside = who.public || who.foreign.length > 0;
    // A policy that opened the resource is no "before" for a later change: its undo goes back past it.
    if (outside && draft.recorded) {
      if (draft.recorded.before) previousPolicies.set(draft.recorded.key, draft.recorded.before);
      else previousPolicies.delete(draft.recorded.key);
    }
    if (!outside && draft.severityIfNoGrantee === undefined) continue; // shared inside: the generic finding says it
    handled.add(e.id);
    const to = who.public
      ? `to everyone (${draft.grantees.filter(isPublicPrincipal).join(', ')})`
      : who.foreign.length
        ? `to ${who.foreign.length === 1 ? 'account' : 'accounts'} ${who.foreign.map((f) => accountOfPrincipal(f) ?? f).join(', ')} outside ${ctx.organizationAccounts ? 'the organization' : 'this account'}`
        : '';
    const severity: Severity = failed ? 'medium' : outside ? 'critical' : draft.severityIfNoGrantee!;
    const category = draft.kind === 'service-quota-increase' || draft.kind === 'lambda-function' ? 'compute-abuse' : 'exposure';
    const undo = UNDO_KINDS[draft.undo];
    findings.push({
      id: `${category}-${draft.kind}-${slug(draft.resource.id)}-${slug(e.id).slice(-12)}`,
      category,
      severity,
      title: `${draft.what}${to ? ` ${to}` : ''} in ${e.region}${failed ? ` (attempt failed: ${failed})` : ''}`,
      detail: `${e.actor ?? 'Root'} called ${eventName(r)} at ${e.at} from ${str(r['sourceIPAddress']) ?? 'an unrecorded address'} (event ${e.id}).${
        draft.kind === 's3-bucket-policy' || draft.kind === 'kms-key-policy'
          ? draft.previous
            ? ' The previous policy is in an earlier event of the window.'
            : obj(draft.change['previousEvent'])?.['none']
              ? ' The bucket had no policy before (DeleteBucketPolicy earlier in the window).'
              : ' CloudTrail did not record the previous policy in the window: compare with your own copy.'
          : draft.kind === 's3-public-access-block'
            ? draft.previous
              ? ` The undo restores the settings an earlier PutPublicAccessBlock of the window recorded (${onSettings(draft.previous).join(', ') || 'none on'}).`
              : ' CloudTrail did not record the configuration before it in the window: the undo turns all four blocks on.'
            : ''
      }${
        who.foreign.length && ctx.organizationAccountsUnavailable
          ? ` The organization's accounts could not be listed (${ctx.organizationAccountsUnavailable}): every account other than this one is counted as foreign, sibling member accounts included.`
          : ''
      }`,
      evidence: [e.id],
      exposure: {
        kind: draft.kind,
        resource: { ...draft.resource, region: e.region },
        grantees: draft.grantees,
        public: who.public,
        foreign: who.foreign,
        change: draft.change,
        previous: draft.previous ?? null,
        undo: { kind: draft.undo, reversible: undo.reversible, status: 'not-implemented' },
        event: { id: e.id, at: e.at, sourceIPAddress: str(r['sourceIPAddress']) ?? null, failed },
      },
    });
    const made = findings[findings.length - 1]!.exposure;
    if (!failed && (BUILT_UNDOS as readonly UndoKind[]).includes(made.undo.kind) && undoTarget(made)) made.undo.status = 'proposed';
  }
  // Compute: one finding per region, the instance types counted; GPU types named.
  const byRegion = new Map<string, typeof launches>();
  for (const l of launches) byRegion.set(l.e.region, [...(byRegion.get(l.e.region) ?? []), l]);
  for (const [region, list] of byRegion) {
    const perType = new Map<string, number>();
    for (const l of list) perType.set(l.type, (perType.get(l.type) ?? 0) + l.count);
    const total = [...perType.values()].reduce((a, b) => a + b, 0);
    const gpu = [...perType.keys()].filter(isGpuType);
    const ids = list.flatMap((l) => l.ids);
    const types = [...perType].map(([t, n]) => `${n}× ${t}${isGpuType(t) ? ' (GPU)' : ''}`).join(', ');
    findings.push({
      id: `compute-abuse-ec2-instances-${slug(region)}`,
      category: 'compute-abuse',
      severity: total === 0 ? 'medium' : gpu.length ? 'critical' : 'high',
      title:
        total === 0
          ? `RunInstances tried ${list.length}× in ${region} (every attempt failed)`
          : `${total} EC2 instance${total > 1 ? 's' : ''} launched in ${region}: ${types}${gpu.length ? ': GPU instances, the usual sign of cryptomining' : ''}`,
      detail: `${list.length} RunInstances call${list.length > 1 ? 's' : ''} by ${[...new Set(list.map((l) => l.e.actor ?? 'root'))].join(', ')} from ${[...new Set(list.map((l) => str(l.e.record['sourceIPAddress']) ?? 'unrecorded'))].join(', ')}, first at ${list[0]!.e.at}. Instances: ${ids.join(', ') || 'ids not recorded'}.`,
      evidence: list.map((l) => l.e.id),
      exposure: {
        kind: 'ec2-instances',
        resource: { type: 'EC2 instances', id: ids.join(',') || 'unrecorded', region },
        grantees: [],
        public: false,
        foreign: [],
        change: { instanceIds: ids, instanceTypes: Object.fromEntries(perType), gpuTypes: gpu },
        previous: null,
        undo: {
          kind: 'stop-instances',
          reversible: UNDO_KINDS['stop-instances'].reversible,
          status: total > 0 && ids.length > 0 ? 'proposed' : 'not-implemented',
        },
        event: {
          id: list[0]!.e.id,
          at: list[0]!.e.at,
          sourceIPAddress: str(list[0]!.e.record['sourceIPAddress']) ?? null,
          failed: total === 0 ? (errorCodeOf(list[0]!.e.record) ?? null) : null,
        },
      },
    });
  }
  return { findings, handled };
}

/** The undos the remediation registry runs (remediations/*.ts): their findings are proposed for approval. */
export const BUILT_UNDOS = [
  'revoke-security-group-ingress',
  'remove-launch-permission',
  'stop-instances',
  'remove-snapshot-share',
  'remove-db-snapshot-share',
  'restore-public-access-block',
  'revert-bucket-acl',
  // remediations/resource-policies.ts
  'revert-bucket-policy',
  'revert-key-policy',
  // remediations/grants.ts
  'revoke-kms-grant',
  'remove-lambda-permission',
  'require-function-url-auth',
  'disassociate-resource-share',
] as const satisfies readonly UndoKind[];

/** The settings a recorded Block Public Access configuration has on. */
const onSettings = (config: unknown): PublicAccessBlockSetting[] =>
  PUBLIC_ACCESS_BLOCKS.filter((k) => obj(config)?.[k] === true || obj(config)?.[k] === 'true');

/** The grants a public canned ACL adds (S3 User Guide, "Canned ACL"). */
const CANNED_GRANTS: Record<string, string[]> = {
  'public-read': ['AllUsers:READ'],
  'public-read-write': ['AllUsers:READ', 'AllUsers:WRITE'],
  'authenticated-read': ['AuthenticatedUsers:READ'],
};

/** One ingress permission as the undo target names it: `tcp/22:22/::/0` (protocol, ports, one address range). */
export interface IngressRange {
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidr: string;
}

/** Who a launch permission or snapshot share names: `all`, an account id, an organization or OU ARN. */
const granteeOf = (g: JsonObject) => str(g['group']) ?? str(g['userId']) ?? str(g['organizationArn']) ?? str(g['organizationalUnitArn']);

/**
 * What a remediation's target names for a built undo, exactly the change the event made, or
 * undefined when the event did not record enough to undo it:
 * security group `sg-1 sgr-1,sgr-2` (the rule ids) or `sg-1 tcp/22:22/::/0,...`; AMI `ami-1 all,111122223333`;
 * snapshot `snap-1 all,...`; RDS snapshot `instance db-snap-1 all,444455556666` or `cluster cluster-snap-1 all`
 * (ValuesToRemove: exactly the values the event added); instances `i-1,i-2`; Block Public Access `bucket:NAME BlockPublicAcls,... default`
 * or `account BlockPublicAcls,... recorded` (the settings to turn on, and whether CloudTrail recorded them or
 * they are the default, all four); bucket ACL `NAME AllUsers:READ,AuthenticatedUsers:WRITE` (the grants to remove);
 * bucket or key policy `bucket-1 policy:<event id>|none:<event id>|unrecorded *,444455556666`
 * (what it had before, by the event that set it, and whom root's policy opened it to).
 */
export function undoTarget(e: Exposure): string | undefined {
  const c = e.change;
  switch (e.undo.kind) {
    case 'revoke-security-group-ingress': {
      const group = str(c['groupId']);
      if (!group) return undefined;
      const ruleIds = strings(c['securityGroupRuleIds']);
      if (ruleIds.length) return `${group} ${ruleIds.join(',')}`;
      const ranges = items(c['ipPermissions']).flatMap((p) => {
        const scalar = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
        const protocol = scalar(p['ipProtocol']) || '-1';
        const ports = `${scalar(p['fromPort'])}:${scalar(p['toPort'])}`;
        const cidrs = [
          ...items(p['ipRanges']).map((r) => str(r['cidrIp'])),
          ...items(p['ipv6Ranges']).map((r) => str(r['cidrIpv6'])),
          str(p['cidrIp']),
          str(p['cidrIpv6']),
        ].filter((x): x is string => !!x);
        return cidrs.map((cidr) => `${protocol}/${ports}/${cidr}`);
      });
      return ranges.length ? `${group} ${ranges.join(',')}` : undefined;
    }
    case 'remove-launch-permission':
    case 'remove-snapshot-share': {
      const id = str(c['imageId']) ?? str(c['snapshotId']);
      const field = e.undo.kind === 'remove-launch-permission' ? 'launchPermission' : 'createVolumePermission';
      const who = items(obj(c[field])?.['add']).map(granteeOf);
      if (!id || who.length === 0 || who.some((w) => !w)) return undefined;
      return `${id} ${who.join(',')}`;
    }
    case 'remove-db-snapshot-share': {
      const cluster = e.kind === 'rds-cluster-snapshot-share';
      const id = str(c[cluster ? 'dBClusterSnapshotIdentifier' : 'dBSnapshotIdentifier']);
      const values = strings(c['valuesToAdd']);
      // Identifiers and values never hold a space or a comma (RDS naming rules; account ids; `all`): the target splits on them.
      if (!id || /[\s,]/.test(id) || values.length === 0 || values.some((v) => !v || /[\s,]/.test(v))) return undefined;
      return `${cluster ? 'cluster' : 'instance'} ${id} ${values.join(',')}`;
    }
    case 'stop-instances': {
      const ids = strings(c['instanceIds']);
      return ids.length ? ids.join(',') : undefined;
    }
    case 'restore-public-access-block': {
      const bucket = str(c['bucketName']);
      if (!bucket && str(c['scope']) !== 'account') return undefined;
      const restore = e.previous ? onSettings(e.previous) : [...PUBLIC_ACCESS_BLOCKS];
      if (restore.length === 0) return undefined; // nothing was on before: nothing to restore
      return `${bucket ? `bucket:${bucket}` : 'account'} ${restore.join(',')} ${e.previous ? 'recorded' : 'default'}`;
    }
    case 'revert-bucket-acl': {
      const bucket = str(c['bucketName']);
      const grants = [
        ...items(c['grants']).map((g) => `${S3_GROUP.exec(str(g['uri']) ?? '')?.[1] ?? '?'}:${str(g['permission']) ?? '?'}`),
        ...strings(c['cannedAcl']).flatMap((a) => CANNED_GRANTS[a] ?? []),
      ];
      if (!bucket || grants.length === 0 || grants.some((g) => g.includes('?'))) return undefined;
      return `${bucket} ${[...new Set(grants)].join(',')}`;
    }
    case 'revert-bucket-policy':
    case 'revert-key-policy': {
      const id = str(c[e.undo.kind === 'revert-bucket-policy' ? 'bucketName' : 'keyId']);
      const who = [...(e.public ? ['*'] : []), ...e.foreign.map((f) => accountOfPrincipal(f) ?? f)];
      if (!id || /\s/.test(id) || who.length === 0 || who.some((w) => /[\s,]/.test(w))) return undefined;
      const before = obj(c['previousEvent']);
      const state = before?.['none'] ? 'none' : before?.['policy'] ? 'policy' : undefined;
      const event = state ? str(before?.[state]) : undefined;
      return `${id} ${state && event && !/\s/.test(event) ? `${state}:${event}` : 'unrecorded'} ${[...new Set(who)].join(',')}`;
    }
    case 'revoke-kms-grant':
    case 'remove-lambda-permission':
    case 'require-function-url-auth':
    case 'disassociate-resource-share':
      return grantTarget(e);
    default:
      return undefined;
  }
}

/** A security-group undo target read back: the group and either its rule ids or its ranges. */
export function parseIngressTarget(target: string): { groupId: string; ruleIds: string[]; ranges: IngressRange[] } {
  const [groupId = '', list = ''] = target.split(' ');
  const parts = list.split(',').filter(Boolean);
  if (parts.every((p) => p.startsWith('sgr-'))) return { groupId, ruleIds: parts, ranges: [] };
  const ranges = parts.map((p) => {
    const [protocol = '-1', ports = ':', ...cidr] = p.split('/');
    const [from, to] = ports.split(':');
    return {
      protocol,
      ...(from ? { fromPort: Number(from) } : {}),
      ...(to ? { toPort: Number(to) } : {}),
      cidr: cidr.join('/'),
    };
  });
  return { groupId, ruleIds: [], ranges };
}

/** An AMI or snapshot undo target read back: the resource and whom it was shared with. */
export function parseShareTarget(target: string): { id: string; grantees: string[] } {
  const [id = '', list = ''] = target.split(' ');
  return { id, grantees: list.split(',').filter(Boolean) };
}

/** An RDS snapshot undo target read back: a DB instance or an Aurora cluster snapshot, its identifier, the restore values to remove. */
export function parseDbShareTarget(target: string): { snapshotType: 'instance' | 'cluster'; id: string; values: string[] } {
  const [type = '', id = '', list = ''] = target.split(' ');
  if ((type !== 'instance' && type !== 'cluster') || !id)
    throw new InvalidStepInputError(`Not an RDS snapshot share target: ${target}`, ['target']);
  return { snapshotType: type, id, values: list.split(',').filter(Boolean) };
}

/** A Block Public Access undo target read back: the bucket (or the account), the settings to turn on, and where they came from. */
export function parsePublicAccessBlockTarget(target: string): {
  bucket?: string;
  settings: PublicAccessBlockSetting[];
  recorded: boolean;
} {
  const [scope = '', list = '', source = ''] = target.split(' ');
  const settings = list.split(',').filter((k): k is PublicAccessBlockSetting => (PUBLIC_ACCESS_BLOCKS as readonly string[]).includes(k));
  return { ...(scope.startsWith('bucket:') ? { bucket: scope.slice('bucket:'.length) } : {}), settings, recorded: source === 'recorded' };
}

/** A bucket-ACL undo target read back: the bucket and the group grants to remove. */
export function parseAclTarget(target: string): {
  bucket: string;
  grants: { group: 'AllUsers' | 'AuthenticatedUsers'; permission: string }[];
} {
  const [bucket = '', list = ''] = target.split(' ');
  const grants = list
    .split(',')
    .map((g) => g.split(':'))
    .filter((x): x is ['AllUsers' | 'AuthenticatedUsers', string] => (x[0] === 'AllUsers' || x[0] === 'AuthenticatedUsers') && !!x[1])
    .map(([group, permission]) => ({ group, permission }));
  return { bucket, grants };
}

/** Whom a resource policy was opened to, as the undo target names them: `*` (anyone) and account ids. */
export interface PolicyTarget {
  /** The bucket name or the KMS key id (as root named it). */
  id: string;
  /** What it had before root's change, as CloudTrail recorded it in the window: a policy (the event that set it), none, or unrecorded. */
  before: { state: 'policy' | 'none'; event: string } | { state: 'unrecorded' };
  /** `*` for anyone, else the foreign account ids root's policy granted. */
  grantees: string[];
}

/** A bucket or key policy undo target read back. */
export function parsePolicyTarget(target: string): PolicyTarget {
  const [id = '', before = 'unrecorded', list = ''] = target.split(' ');
  const at = before.indexOf(':');
  const state = at > 0 ? before.slice(0, at) : before;
  return {
    id,
    before: (state === 'policy' || state === 'none') && at > 0 ? { state, event: before.slice(at + 1) } : { state: 'unrecorded' },
    grantees: list.split(',').filter(Boolean),
  };
}

// ---------- grants and permissions (remediations/grants.ts) ----------

/** No space may be inside a target's fields: they are space-separated. */
const field = (v: string | undefined) => (v && !/\s/.test(v) ? v : undefined);

/**
 * The undo target of a KMS grant (`key grant-id`), a Lambda permission (`function statement-id
 * principal action [function-url-auth-type]`), a function URL (`function`) or a RAM share (`share-arn
 * principal,...`: only the principals outside the organization or the account). Undefined when the
 * event did not record what the undo needs, or named a version or alias (qualifier): a person does it.
 */
function grantTarget(e: Exposure): string | undefined {
  const c = e.change;
  const parts = (...list: (string | undefined)[]) => (list.every((x) => x !== undefined) ? list.join(' ') : undefined);
  switch (e.undo.kind) {
    case 'revoke-kms-grant':
      return parts(field(str(c['keyId'])), field(str(c['grantId'])));
    case 'remove-lambda-permission': {
      if (str(c['qualifier'])) return undefined;
      const base = parts(field(str(c['functionName'])), field(str(c['statementId'])), field(str(c['principal'])), field(str(c['action'])));
      const urlAuth = field(str(c['functionUrlAuthType']));
      return base && urlAuth ? `${base} ${urlAuth}` : base;
    }
    case 'require-function-url-auth':
      return str(c['qualifier']) ? undefined : field(str(c['functionName']));
    case 'disassociate-resource-share': {
      const arn = field(str(c['resourceShareArn']));
      const who = e.foreign.filter((f) => field(f) && !f.includes(','));
      return arn?.startsWith('arn:') && who.length === e.foreign.length && who.length > 0 ? `${arn} ${who.join(',')}` : undefined;
    }
    default:
      return undefined;
  }
}

/** A KMS grant undo target read back. */
export function parseGrantTarget(target: string): { keyId: string; grantId: string } {
  const [keyId = '', grantId = ''] = target.split(' ');
  return { keyId, grantId };
}

/** A Lambda permission undo target read back: the statement root added, as its event recorded it. */
export function parsePermissionTarget(target: string): {
  functionName: string;
  statementId: string;
  principal: string;
  action: string;
  functionUrlAuthType?: string;
} {
  const [functionName = '', statementId = '', principal = '', action = '', functionUrlAuthType] = target.split(' ');
  return { functionName, statementId, principal, action, ...(functionUrlAuthType ? { functionUrlAuthType } : {}) };
}

/** A RAM share undo target read back: the share and the principals to remove from it. */
export function parseResourceShareTarget(target: string): { resourceShareArn: string; principals: string[] } {
  const [resourceShareArn = '', list = ''] = target.split(' ');
  return { resourceShareArn, principals: list.split(',').filter(Boolean) };
}
