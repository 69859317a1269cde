import {
  DescribeImageAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  ModifyImageAttributeCommand,
  RevokeSecurityGroupIngressCommand,
  StopInstancesCommand,
  type IpPermission,
  type LaunchPermission,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import type { TargetClients } from '../clients';
import { awsCall, unlessAbsent } from '../errors';
import { type IngressRange, parseIngressTarget, parseShareTarget } from '../exposure';
import { defineRemediation, type RemediationMeta } from './types';

/**
 * The undos of what root (or a principal root created) exposed or launched in EC2, each exactly the
 * change its event made (the target names it: exposure.ts `undoTarget`): the security-group rule
 * revoked, the AMI launch permission removed, the instances stopped (never
 * terminated). Each is re-read by API afterwards and a person can put it back (undoSteps).
 */

// ---------- revoke-security-group-ingress ----------

async function ingressRules(clients: TargetClients, region: string, groupId: string): Promise<SecurityGroupRule[]> {
  const rules: SecurityGroupRule[] = [];
  let token: string | undefined;
  do {
    const out = await unlessAbsent(
      'ec2:DescribeSecurityGroupRules',
      () =>
        clients.ec2(region).send(
          new DescribeSecurityGroupRulesCommand({
            Filters: [{ Name: 'group-id', Values: [groupId] }],
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      ['InvalidGroup.NotFound'],
    );
    rules.push(...(out?.SecurityGroupRules ?? []).filter((r) => !r.IsEgress));
    token = out?.NextToken;
  } while (token);
  return rules;
}

const matchesRange = (rule: SecurityGroupRule, range: IngressRange) =>
  (rule.IpProtocol ?? '-1') === range.protocol &&
  (range.fromPort === undefined || rule.FromPort === range.fromPort) &&
  (range.toPort === undefined || rule.ToPort === range.toPort) &&
  (rule.CidrIpv4 === range.cidr || rule.CidrIpv6 === range.cidr);

/** The rules of the group the target names (by id, or by protocol, ports and range). */
function targeted(rules: SecurityGroupRule[], target: ReturnType<typeof parseIngressTarget>): SecurityGroupRule[] {
  return target.ruleIds.length
    ? rules.filter((r) => target.ruleIds.includes(r.SecurityGroupRuleId ?? ''))
    : rules.filter((r) => target.ranges.some((range) => matchesRange(r, range)));
}

const rangeText = (r: IngressRange) =>
  `${r.protocol === '-1' ? 'all traffic' : r.protocol.toUpperCase()}${r.fromPort !== undefined ? ` ${r.fromPort === r.toPort ? `port ${r.fromPort}` : `ports ${r.fromPort}-${r.toPort}`}` : ''} from ${r.cidr}`;

const ruleRange = (r: SecurityGroupRule): IngressRange => ({
  protocol: r.IpProtocol ?? '-1',
  ...(r.FromPort !== undefined ? { fromPort: r.FromPort } : {}),
  ...(r.ToPort !== undefined ? { toPort: r.ToPort } : {}),
  cidr: r.CidrIpv4 ?? r.CidrIpv6 ?? '?',
});

/** The CLI command that authorizes a range again. */
function authorize(groupId: string, region: string, r: IngressRange): string {
  const ports = r.fromPort !== undefined ? `,FromPort=${r.fromPort},ToPort=${r.toPort ?? r.fromPort}` : '';
  const range = r.cidr.includes(':') ? `Ipv6Ranges=[{CidrIpv6=${r.cidr}}]` : `IpRanges=[{CidrIp=${r.cidr}}]`;
  return `aws ec2 authorize-security-group-ingress --group-id ${groupId} --ip-permissions 'IpProtocol=${r.protocol}${ports},${range}' --region ${region}`;
}

function ipPermission(r: IngressRange): IpPermission {
  return {
    IpProtocol: r.protocol,
    ...(r.fromPort !== undefined ? { FromPort: r.fromPort } : {}),
    ...(r.toPort !== undefined ? { ToPort: r.toPort } : {}),
    ...(r.cidr.includes(':') ? { Ipv6Ranges: [{ CidrIpv6: r.cidr }] } : { IpRanges: [{ CidrIp: r.cidr }] }),
  };
}

export const revokeSecurityGroupIngressMeta: RemediationMeta<'revoke-security-group-ingress'> = {
  action: 'revoke-security-group-ingress',
  runsIn: 'target-account',
  permissions: {
    run: ['ec2:DescribeSecurityGroupRules', 'ec2:RevokeSecurityGroupIngress'],
    verify: ['ec2:DescribeSecurityGroupRules'],
  },
  reversible: true,
  approvals: 1,
};

export const revokeSecurityGroupIngress = /* @__PURE__ */ defineRemediation(revokeSecurityGroupIngressMeta, {
  async run({ clients, region, target }) {
    const t = parseIngressTarget(target);
    const present = targeted(await ingressRules(clients, region, t.groupId), t);
    if (present.length === 0)
      return {
        status: 'done',
        detail: `Security group ${t.groupId} in ${region} no longer has the rule root added: nothing to revoke.`,
        undo: [],
      };
    const ids = present.map((r) => r.SecurityGroupRuleId).filter((x): x is string => !!x);
    await unlessAbsent(
      'ec2:RevokeSecurityGroupIngress',
      () =>
        clients
          .ec2(region)
          .send(
            new RevokeSecurityGroupIngressCommand(
              ids.length === present.length
                ? { GroupId: t.groupId, SecurityGroupRuleIds: ids }
                : { GroupId: t.groupId, IpPermissions: present.map((r) => ipPermission(ruleRange(r))) },
            ),
          ),
      ['InvalidPermission.NotFound', 'InvalidSecurityGroupRuleId.NotFound'],
    );
    const ranges = present.map(ruleRange);
    return {
      status: 'done',
      detail: `Revoked from security group ${t.groupId} in ${region} (RevokeSecurityGroupIngress): ${ranges.map(rangeText).join('; ')}${ids.length ? ` (rules ${ids.join(', ')})` : ''}.`,
      undo: ranges.map((r) => authorize(t.groupId, region, r)),
    };
  },
  async verify({ clients, region, target }) {
    const t = parseIngressTarget(target);
    const left = targeted(await ingressRules(clients, region, t.groupId), t);
    return left.length === 0
      ? { verified: true, reason: `DescribeSecurityGroupRules: security group ${t.groupId} in ${region} has no such ingress rule any more` }
      : {
          verified: false,
          reason: `DescribeSecurityGroupRules: security group ${t.groupId} in ${region} still allows ${left.map((r) => rangeText(ruleRange(r))).join('; ')}`,
        };
  },
  undoSteps: ({ target, region }) => {
    const t = parseIngressTarget(target);
    return t.ranges.length
      ? t.ranges.map((r) => authorize(t.groupId, region, r))
      : [
          `Authorize again on security group ${t.groupId} in ${region} the rules ${t.ruleIds.join(', ')} as the report's Run Approved Action detail lists them.`,
        ];
  },
});

// ---------- remove-launch-permission ----------

/** A grantee as EC2 names it: the group `all`, an account id, an organization or OU ARN. */
function permissionOf(grantee: string): LaunchPermission {
  if (grantee === 'all') return { Group: 'all' };
  if (/:organization\//.test(grantee)) return { OrganizationArn: grantee };
  if (/:ou\//.test(grantee)) return { OrganizationalUnitArn: grantee };
  return { UserId: grantee };
}

const granteeOf = (p: LaunchPermission) => p.Group ?? p.UserId ?? p.OrganizationArn ?? p.OrganizationalUnitArn ?? '?';
const who = (grantees: string[]) => grantees.map((g) => (g === 'all' ? 'everyone (all)' : g)).join(', ');

async function launchPermissions(clients: TargetClients, region: string, imageId: string): Promise<string[] | undefined> {
  const out = await unlessAbsent(
    'ec2:DescribeImageAttribute',
    () => clients.ec2(region).send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' })),
    ['InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable'],
  );
  return out ? (out.LaunchPermissions ?? []).map(granteeOf) : undefined;
}

const addLaunch = (imageId: string, region: string, grantees: string[]) =>
  `aws ec2 modify-image-attribute --image-id ${imageId} --launch-permission 'Add=[${grantees
    .map((g) => {
      const p = permissionOf(g);
      return p.Group
        ? `{Group=${g}}`
        : p.UserId
          ? `{UserId=${g}}`
          : p.OrganizationArn
            ? `{OrganizationArn=${g}}`
            : `{OrganizationalUnitArn=${g}}`;
    })
    .join(',')}]' --region ${region}`;

export const removeLaunchPermissionMeta: RemediationMeta<'remove-launch-permission'> = {
  action: 'remove-launch-permission',
  runsIn: 'target-account',
  permissions: { run: ['ec2:DescribeImageAttribute', 'ec2:ModifyImageAttribute'], verify: ['ec2:DescribeImageAttribute'] },
  reversible: true,
  approvals: 1,
};

export const removeLaunchPermission = /* @__PURE__ */ defineRemediation(removeLaunchPermissionMeta, {
  async run({ clients, region, target }) {
    const { id, grantees } = parseShareTarget(target);
    const now = await launchPermissions(clients, region, id);
    if (now === undefined) return { status: 'done', detail: `AMI ${id} no longer exists in ${region}: nothing to remove.`, undo: [] };
    const present = grantees.filter((g) => now.includes(g));
    if (present.length === 0)
      return { status: 'done', detail: `AMI ${id} in ${region} is no longer shared with ${who(grantees)}: nothing to remove.`, undo: [] };
    await awsCall('ec2:ModifyImageAttribute', () =>
      clients.ec2(region).send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Remove: present.map(permissionOf) } })),
    );
    return {
      status: 'done',
      detail: `Removed the launch permission of ${who(present)} from AMI ${id} in ${region} (ModifyImageAttribute).`,
      undo: [addLaunch(id, region, present)],
    };
  },
  async verify({ clients, region, target }) {
    const { id, grantees } = parseShareTarget(target);
    const now = await launchPermissions(clients, region, id);
    if (now === undefined) return { verified: true, reason: `DescribeImageAttribute: AMI ${id} in ${region} no longer exists` };
    const left = grantees.filter((g) => now.includes(g));
    return left.length === 0
      ? { verified: true, reason: `DescribeImageAttribute: AMI ${id} in ${region} is not shared with ${who(grantees)}` }
      : { verified: false, reason: `DescribeImageAttribute: AMI ${id} in ${region} still launches for ${who(left)}` };
  },
  undoSteps: ({ target, region }) => {
    const { id, grantees } = parseShareTarget(target);
    return [addLaunch(id, region, grantees)];
  },
});

// ---------- stop-instances ----------

/** The state of each instance the target names (an instance EC2 no longer knows: absent). */
async function instanceStates(clients: TargetClients, region: string, ids: string[]): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  // One id at a time would cost a call each; a missing id fails the whole call, so fall back to one by one.
  const describe = (InstanceIds: string[]) =>
    unlessAbsent('ec2:DescribeInstances', () => clients.ec2(region).send(new DescribeInstancesCommand({ InstanceIds })), [
      'InvalidInstanceID.NotFound',
      'InvalidInstanceID.Malformed',
    ]);
  const record = (out: Awaited<ReturnType<typeof describe>>) => {
    for (const r of out?.Reservations ?? [])
      for (const i of r.Instances ?? []) if (i.InstanceId) states.set(i.InstanceId, i.State?.Name ?? '?');
  };
  const all = await describe(ids);
  if (all) record(all);
  else for (const id of ids) record(await describe([id]));
  return states;
}

const STOPPED = new Set(['stopping', 'stopped', 'shutting-down', 'terminated']);

export const stopInstancesMeta: RemediationMeta<'stop-instances'> = {
  action: 'stop-instances',
  runsIn: 'target-account',
  permissions: { run: ['ec2:DescribeInstances', 'ec2:StopInstances'], verify: ['ec2:DescribeInstances'] },
  reversible: true,
  approvals: 1,
};

const start = (ids: string[], region: string) => `aws ec2 start-instances --instance-ids ${ids.join(' ')} --region ${region}`;

export const stopInstances = /* @__PURE__ */ defineRemediation(stopInstancesMeta, {
  async run({ clients, region, target }) {
    const ids = target.split(',').filter(Boolean);
    const states = await instanceStates(clients, region, ids);
    const running = ids.filter((id) => states.has(id) && !STOPPED.has(states.get(id)!));
    const gone = ids.filter((id) => !states.has(id));
    const note = gone.length ? ` EC2 no longer knows ${gone.join(', ')}.` : '';
    if (running.length === 0)
      return { status: 'done', detail: `No instance of ${ids.join(', ')} in ${region} is running: nothing to stop.${note}`, undo: [] };
    const out = await awsCall('ec2:StopInstances', () => clients.ec2(region).send(new StopInstancesCommand({ InstanceIds: running })));
    const now = (out.StoppingInstances ?? []).map((i) => `${i.InstanceId} ${i.CurrentState?.Name ?? '?'}`).join(', ');
    return {
      status: 'done',
      detail: `Stopped (not terminated) ${running.join(', ')} in ${region} (StopInstances: ${now}); their EBS volumes are kept.${note}`,
      undo: [start(running, region)],
    };
  },
  async verify({ clients, region, target }) {
    const ids = target.split(',').filter(Boolean);
    const states = await instanceStates(clients, region, ids);
    const running = ids.filter((id) => states.has(id) && !STOPPED.has(states.get(id)!));
    return running.length === 0
      ? {
          verified: true,
          reason: `DescribeInstances: ${ids.map((id) => `${id} ${states.get(id) ?? 'not found'}`).join(', ')} in ${region}`,
        }
      : { verified: false, reason: `DescribeInstances: ${running.map((id) => `${id} ${states.get(id)}`).join(', ')} in ${region}` };
  },
  undoSteps: ({ target, region }) => [start(target.split(',').filter(Boolean), region)],
});
