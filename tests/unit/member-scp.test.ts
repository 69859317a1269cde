import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '#drill/deployment';
import { FULL_AWS_ACCESS, parsePolicyDocument, serviceControlDecision, type PolicyDocument } from '#drill/iam-policy';
import * as names from '#infra/names.cjs';

/**
 * The member guardrails SCP, judged by the policy evaluator (drill/iam-policy.ts) as AWS judges an
 * SCP: beside the default FullAWSAccess, an applicable Deny wins. The responder runs in a member
 * account here (a delegated administrator, 222233334444) under the same SCP as every member: its
 * deploy role must be able to create and update its own stack; nobody in a member account
 * (111122223333), root included, may remove the forwarding, weaken the roles or leave.
 */
const STAGE = 'test';
const RESPONDER = '222233334444';
const MEMBER = '111122223333';
const REGIONS = ['us-east-1', 'eu-west-1'];

type Resource = { Type: string; Properties: Record<string, unknown> };
const template = JSON.parse(readFileSync(join(PROJECT_ROOT, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8')) as {
  Resources: Record<string, Resource>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { build, FORWARDED_RULES } = require(join(PROJECT_ROOT, 'infra', 'member-templates.cjs')) as {
  build: (t: unknown, stage: string, functions?: unknown) => { scp: unknown };
  FORWARDED_RULES: string[];
};
const scp: PolicyDocument = parsePolicyDocument(build(template, STAGE).scp, 'member-guardrails-scp');

const decide = (principal: string, action: string, resource: string) =>
  serviceControlDecision([FULL_AWS_ACCESS, scp], { action, resource, context: { 'aws:PrincipalArn': principal } }).effect;

/** The name CloudFormation gives a resource that names none: `<stack>-<logical id>-<13-character suffix>`. */
const generatedName = (logicalId: string) => `${names.stackName(STAGE)}-${logicalId}-1A2B3C4D5E6F7`;
const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

const deployRole = `arn:aws:iam::${RESPONDER}:role/${names.deployRoleName(STAGE)}`;
const stackSetsRole = `arn:aws:iam::${MEMBER}:role/stacksets-exec-0123456789abcdef0123456789abcdef`;
const attackers = [`arn:aws:iam::${MEMBER}:root`, `arn:aws:iam::${MEMBER}:role/Admin`, `arn:aws:iam::${MEMBER}:user/eve`];
const memberRoles = [names.forwardingRoleName(STAGE), names.canaryRoleName(STAGE), names.MEMBER_READ_ROLE, names.MEMBER_WRITE_ROLE];
const forwardingRules = (account: string) =>
  REGIONS.flatMap((region) => FORWARDED_RULES.map((id) => `arn:aws:events:${region}:${account}:rule/${names.ruleName(STAGE, id)}`));

describe('the member guardrails SCP, evaluated', () => {
  it("lets the responder's deploy role create and update every rule and role of its own stack in a member account", () => {
    const rules = ofType('AWS::Events::Rule');
    const roles = ofType('AWS::IAM::Role');
    expect(rules.length).toBeGreaterThanOrEqual(6);
    expect(roles.length).toBeGreaterThanOrEqual(10);
    const denied: string[] = [];
    for (const [id, rule] of rules) {
      const name = (rule.Properties['Name'] as string | undefined) ?? generatedName(id);
      for (const action of ['events:PutRule', 'events:PutTargets', 'events:RemoveTargets', 'events:DeleteRule', 'events:DisableRule'])
        if (decide(deployRole, action, `arn:aws:events:us-east-1:${RESPONDER}:rule/${name}`) !== 'Allow') denied.push(`${action} ${name}`);
    }
    for (const [id, role] of roles) {
      const name = (role.Properties['RoleName'] as string | undefined) ?? generatedName(id);
      for (const action of ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:DeleteRole'])
        if (decide(deployRole, action, `arn:aws:iam::${RESPONDER}:role/${name}`) !== 'Allow') denied.push(`${action} ${name}`);
    }
    // Its forwarding stacks in the other regions (member-forwarding.json, the members' exact names).
    for (const rule of forwardingRules(RESPONDER))
      for (const action of ['events:PutRule', 'events:PutTargets'])
        if (decide(deployRole, action, rule) !== 'Allow') denied.push(`${action} ${rule}`);
    expect(denied).toEqual([]);
    // The shared names really are in its stack: the forwarding and canary roles.
    expect(roles.map(([, r]) => r.Properties['RoleName']).filter(Boolean)).toEqual(
      expect.arrayContaining([names.forwardingRoleName(STAGE), names.canaryRoleName(STAGE)]),
    );
  });

  it("leaves the responder's own auto-named rules and roles to whoever deploys them: only the members' exact names are protected", () => {
    const admin = `arn:aws:iam::${RESPONDER}:role/AWSReservedSSO_Admin_0123456789abcdef`;
    expect(decide(admin, 'events:PutRule', `arn:aws:events:us-east-1:${RESPONDER}:rule/${generatedName('RootSignInRule')}`)).toBe('Allow');
    expect(decide(admin, 'iam:PutRolePolicy', `arn:aws:iam::${RESPONDER}:role/${generatedName('IntakeRole')}`)).toBe('Allow');
    expect(
      decide(
        admin,
        'scheduler:UpdateSchedule',
        `arn:aws:scheduler:us-east-1:${RESPONDER}:schedule/default/${generatedName('CanarySchedule')}`,
      ),
    ).toBe('Allow');
    // ... but not the names it shares with the members.
    expect(decide(admin, 'iam:PutRolePolicy', `arn:aws:iam::${RESPONDER}:role/${names.forwardingRoleName(STAGE)}`)).toBe('ExplicitDeny');
  });

  it('lets the StackSets deploy and update the member resources', () => {
    for (const rule of forwardingRules(MEMBER)) expect(decide(stackSetsRole, 'events:PutRule', rule)).toBe('Allow');
    for (const role of memberRoles) expect(decide(stackSetsRole, 'iam:PutRolePolicy', `arn:aws:iam::${MEMBER}:role/${role}`)).toBe('Allow');
    const schedule = `arn:aws:scheduler:eu-west-1:${MEMBER}:schedule/default/${names.canaryScheduleName(STAGE)}`;
    expect(decide(stackSetsRole, 'scheduler:UpdateSchedule', schedule)).toBe('Allow');
  });

  it.each(attackers)('denies %s removing the forwarding, the canary and the roles, a permissions boundary, and leaving', (attacker) => {
    const calls: [string, string][] = [
      ...forwardingRules(MEMBER).flatMap((rule) =>
        ['events:DeleteRule', 'events:DisableRule', 'events:RemoveTargets', 'events:PutRule', 'events:PutTargets'].map(
          (a) => [a, rule] as [string, string],
        ),
      ),
      ...REGIONS.flatMap((region) =>
        ['scheduler:DeleteSchedule', 'scheduler:UpdateSchedule'].map(
          (a) => [a, `arn:aws:scheduler:${region}:${MEMBER}:schedule/default/${names.canaryScheduleName(STAGE)}`] as [string, string],
        ),
      ),
      ...memberRoles.flatMap((role) =>
        [
          'iam:DeleteRole',
          'iam:DeleteRolePolicy',
          'iam:PutRolePolicy',
          'iam:AttachRolePolicy',
          'iam:DetachRolePolicy',
          'iam:UpdateAssumeRolePolicy',
          'iam:UpdateRole',
          'iam:PutRolePermissionsBoundary',
          'iam:DeleteRolePermissionsBoundary',
        ].map((a) => [a, `arn:aws:iam::${MEMBER}:role/${role}`] as [string, string]),
      ),
      ['organizations:LeaveOrganization', '*'],
      // Becoming an exempt principal: a role by the deploy role's or a StackSets execution role's name.
      ['iam:CreateRole', `arn:aws:iam::${MEMBER}:role/${names.deployRoleName(STAGE)}`],
      ['iam:CreateRole', `arn:aws:iam::${MEMBER}:role/stacksets-exec-evil`],
      ['iam:UpdateAssumeRolePolicy', `arn:aws:iam::${MEMBER}:role/AWSCloudFormationStackSetExecutionRole`],
    ];
    const allowed = calls.filter(([action, resource]) => decide(attacker, action, resource) !== 'ExplicitDeny').map((c) => c.join(' '));
    expect(allowed).toEqual([]);
  });

  it('denies leaving the organization to every principal of a member account, deployers included', () => {
    for (const principal of [deployRole, stackSetsRole, ...attackers])
      expect(decide(principal, 'organizations:LeaveOrganization', '*')).toBe('ExplicitDeny');
  });

  it('is what serverless package writes, within the SCP size limit (5,120 characters)', () => {
    const written = readFileSync(join(PROJECT_ROOT, '.serverless', 'member-guardrails-scp.json'), 'utf8');
    expect(JSON.parse(written)).toEqual(build(template, STAGE).scp);
    // AWS Organizations counts the minified document.
    expect(JSON.stringify(JSON.parse(written)).length).toBeLessThanOrEqual(5120);
  });
});
