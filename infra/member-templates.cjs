// What every other account and region needs, as CloudFormation templates written beside the
// responder's own template at package time (offline, no credentials):
//   .serverless/member-forwarding.json   regional: EventBridge rules that forward root activity and
//                                        the GuardDuty root finding to the responder's bus in
//                                        us-east-1, and the pipeline canary (a schedule and its
//                                        forwarding rule). Organization mode: every member account
//                                        and region; both modes: the responder's own account, in
//                                        every region but us-east-1.
//   .serverless/member-roles.json        one region per member account: the forwarding and canary
//                                        roles, the read role the responder assumes for evidence,
//                                        and the narrow write role for approved remediations
//   .serverless/organization-stacksets.json  for the management account (or a StackSets delegated
//                                        admin): both of the above as service-managed StackSets with
//                                        automatic deployment, so accounts that join are covered
//   .serverless/member-guardrails-scp.json  an SCP that stops member principals, root included,
//                                        from removing the rules, schedules and roles
// The rule patterns are the responder's own intake rules; the role permissions are the actions the
// deployed handlers declare (requiredPermissions), minus what the responder does in its own account.
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
require('tsx/cjs');

// The rule ids and names are shared with the pipeline check, which looks for them by name.
const { FORWARDED_RULES } = require('../functions/shared/forwarding.ts');
const names = require('./names.cjs');
const { memberRoleModules } = require('./roles.cjs');
// Not done in member accounts through these roles: the responder's own tables, topics, bucket and
// secrets, and AssumeRoot (called from the responder's account). The member's own buckets (bucket-level
// S3 actions: the bucket policy undo) are done there.
const LOCAL_SERVICES = /^(dynamodb|sns|states|secretsmanager|sts):|^s3:(?![A-Za-z]*Bucket)/;
// Read from the responder's own account only (served to the management account / delegated admin).
const RESPONDER_ONLY = new Set(['organizations:DescribeAccount', 'organizations:ListParents', 'organizations:ListAccounts', 'account:GetPrimaryEmail', 'iam:ListOrganizationsFeatures',
  // The deny-root SCP: policies are managed from the management account or the delegated administrator.
  'organizations:ListPolicies', 'organizations:CreatePolicy', 'organizations:AttachPolicy', 'organizations:DetachPolicy', 'organizations:ListPoliciesForTarget']);

/** serverless.yml's functions (their handlers are plain strings there). */
function deployedFunctions(serviceDir = join(__dirname, '..')) {
  return require('yaml').parse(readFileSync(join(serviceDir, 'serverless.yml'), 'utf8')).functions;
}

/** The actions the functions that use a member role declare (what that role must allow in the member). */
function actionsOf(role, functions) {
  const all = new Set();
  for (const file of memberRoleModules(functions, role)) {
    const mod = require(join(__dirname, '..', file));
    for (const action of mod.requiredPermissions) if (!LOCAL_SERVICES.test(action) && !RESPONDER_ONLY.has(action)) all.add(action);
  }
  return [...all].sort();
}

function build(responderTemplate, stage, functions = deployedFunctions()) {
  const rules = FORWARDED_RULES.map((id) => ({ id, rule: responderTemplate.Resources[id] }));
  const forwarding = {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `root-responder (${stage}): forward root activity in this account and region to the responder`,
    Parameters: {
      ResponderBusArn: { Type: 'String', Description: 'The default event bus of the responder account in us-east-1' },
    },
    Resources: Object.fromEntries(
      rules.map(({ id, rule }) => [
        `Forward${id}`,
        {
          Type: 'AWS::Events::Rule',
          Properties: {
            Name: names.ruleName(stage, id),
            Description: `${rule.Properties.Description} Forwarded to the responder.`,
            EventPattern: rule.Properties.EventPattern,
            State: rule.Properties.State,
            Targets: [
              {
                Id: 'responder-bus',
                Arn: { Ref: 'ResponderBusArn' },
                RoleArn: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${names.forwardingRoleName(stage)}` },
              },
            ],
          },
        },
      ]),
    ),
  };
  const canary = responderTemplate.Resources.CanarySchedule.Properties;
  forwarding.Resources.CanarySchedule = {
    Type: 'AWS::Scheduler::Schedule',
    Properties: {
      Name: names.canaryScheduleName(stage),
      Description: 'root-responder pipeline canary: proves this account and region still forward to the responder.',
      ScheduleExpression: canary.ScheduleExpression,
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' },
        RoleArn: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${names.canaryRoleName(stage)}` },
        Input: canary.Target.Input,
        EventBridgeParameters: canary.Target.EventBridgeParameters,
      },
    },
  };
  const trustResponder = { Effect: 'Allow', Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${ResponderAccountId}:root' } }, Action: 'sts:AssumeRole', Condition: { StringLike: { 'aws:PrincipalArn': { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${ResponderAccountId}:role/${names.prefix(stage)}*` } } } };
  const roles = {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `root-responder (${stage}): account-wide roles for the responder (deploy in one region only)`,
    Parameters: {
      ResponderAccountId: { Type: 'String', AllowedPattern: '^\\d{12}$' },
      ResponderBusArn: { Type: 'String' },
    },
    Resources: {
      ForwardingRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: names.forwardingRoleName(stage),
          AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }] },
          Policies: [{ PolicyName: 'forward-to-responder', PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['events:PutEvents'], Resource: [{ Ref: 'ResponderBusArn' }] }] } }],
        },
      },
      // The same role the responder's own stack creates for its canary (nothing in it is account-specific).
      CanaryRole: structuredClone(responderTemplate.Resources.CanaryRole),
      ReadRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: names.MEMBER_READ_ROLE,
          AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [trustResponder] },
          Policies: [{ PolicyName: 'read-evidence', PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actionsOf(names.MEMBER_READ_ROLE, functions), Resource: '*' }] } }],
        },
      },
      WriteRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: names.MEMBER_WRITE_ROLE,
          AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [trustResponder] },
          Policies: [{ PolicyName: 'approved-remediations', PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actionsOf(names.MEMBER_WRITE_ROLE, functions), Resource: '*' }] } }],
        },
      },
    },
  };
  const scp = guardrailsScp(stage);
  const stackSets = stackSetsTemplate(stage, forwarding, roles);
  return { forwarding, roles, scp, stackSets };
}

/**
 * The member guardrails SCP: nobody in a member account, root included, may remove or change the
 * forwarding rules, the canary schedule or the responder's roles there, weaken those roles with a
 * permissions boundary, or take the account out of the organization.
 *
 * Every protected resource is named exactly (infra/names.cjs), never by prefix: the responder's own
 * stack, when it runs in a member account (a delegated administrator), names its rules and
 * function roles `root-responder-<stage>-<logical id>-<suffix>`, which a prefix pattern would
 * catch, locking the responder out of its own updates. The names the responder's account shares
 * with the members (its forwarding and canary roles, its forwarding stacks in other regions) may be
 * changed only by the principals that deploy them: the StackSets execution roles and the
 * responder's deploy role. Those exempt role names are themselves protected, so nobody in a member
 * account can create a role by an exempt name and act through it.
 */
function guardrailsScp(stage) {
  const exemptRoles = ['arn:aws:iam::*:role/stacksets-exec-*', 'arn:aws:iam::*:role/AWSCloudFormationStackSetExecutionRole', `arn:aws:iam::*:role/${names.deployRoleName(stage)}`];
  const exceptDeployers = { ArnNotLike: { 'aws:PrincipalArn': exemptRoles } };
  const roleWrites = [
    'iam:AttachRolePolicy',
    'iam:DeleteRole',
    'iam:DeleteRolePermissionsBoundary',
    'iam:DeleteRolePolicy',
    'iam:DetachRolePolicy',
    'iam:PutRolePermissionsBoundary',
    'iam:PutRolePolicy',
    'iam:UpdateAssumeRolePolicy',
    'iam:UpdateRole',
  ];
  const memberRoles = [names.forwardingRoleName(stage), names.canaryRoleName(stage), names.MEMBER_READ_ROLE, names.MEMBER_WRITE_ROLE];
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ProtectRootResponderForwarding',
        Effect: 'Deny',
        Action: ['events:DeleteRule', 'events:DisableRule', 'events:PutRule', 'events:RemoveTargets', 'events:PutTargets'],
        Resource: FORWARDED_RULES.map((id) => `arn:aws:events:*:*:rule/${names.ruleName(stage, id)}`),
        Condition: exceptDeployers,
      },
      {
        Sid: 'ProtectRootResponderCanary',
        Effect: 'Deny',
        Action: ['scheduler:DeleteSchedule', 'scheduler:UpdateSchedule'],
        Resource: `arn:aws:scheduler:*:*:schedule/default/${names.canaryScheduleName(stage)}`,
        Condition: exceptDeployers,
      },
      {
        Sid: 'ProtectRootResponderRoles',
        Effect: 'Deny',
        Action: roleWrites,
        Resource: memberRoles.map((role) => `arn:aws:iam::*:role/${role}`),
        Condition: exceptDeployers,
      },
      {
        Sid: 'ProtectRootResponderDeployers',
        Effect: 'Deny',
        Action: ['iam:CreateRole', ...roleWrites],
        Resource: exemptRoles,
        Condition: exceptDeployers,
      },
      {
        Sid: 'StayInTheOrganization',
        Effect: 'Deny',
        Action: ['organizations:LeaveOrganization'],
        Resource: '*',
      },
    ],
  };
}

/**
 * Service-managed StackSets (deployed from the management account, or a CloudFormation StackSets
 * delegated admin with CallAs DELEGATED_ADMIN): the roles in one region of every account under the
 * given OUs, the forwarding in every listed region; accounts that join later get both
 * (AutoDeployment). The responder's account is left out: its own stack has the roles, and its
 * other regions take member-forwarding.json as plain stacks. Service-managed StackSets never
 * deploy to the management account: when the responder runs elsewhere, deploy both templates there
 * by hand.
 */
function stackSetsTemplate(stage, forwarding, roles) {
  const targets = {
    OrganizationalUnitIds: { Ref: 'OrganizationalUnitIds' },
    AccountFilterType: 'DIFFERENCE',
    Accounts: [{ Ref: 'ResponderAccountId' }],
  };
  const parameters = [
    { ParameterKey: 'ResponderBusArn', ParameterValue: { 'Fn::Sub': 'arn:${AWS::Partition}:events:us-east-1:${ResponderAccountId}:event-bus/default' } },
  ];
  const common = {
    PermissionModel: 'SERVICE_MANAGED',
    AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
    CallAs: { Ref: 'CallAs' },
    ManagedExecution: { Active: true },
    OperationPreferences: { FailureTolerancePercentage: 10, MaxConcurrentPercentage: 25, RegionConcurrencyType: 'PARALLEL' },
  };
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `root-responder (${stage}): member roles and forwarding in every account of the organization, as service-managed StackSets`,
    Parameters: {
      ResponderAccountId: { Type: 'String', AllowedPattern: '^\\d{12}$', Description: 'The account the responder runs in' },
      OrganizationalUnitIds: { Type: 'CommaDelimitedList', Description: 'The organization root id (r-...) or the OUs to cover' },
      Regions: { Type: 'CommaDelimitedList', Description: "The forwarding regions: the stage config's forwardingRegions" },
      CallAs: { Type: 'String', AllowedValues: ['SELF', 'DELEGATED_ADMIN'], Default: 'SELF' },
    },
    Resources: {
      MemberRolesStackSet: {
        Type: 'AWS::CloudFormation::StackSet',
        Properties: {
          ...common,
          StackSetName: names.stackSetName(stage, 'roles'),
          Description: 'root-responder: forwarding, canary, read and remediation roles (account-wide, one region)',
          Capabilities: ['CAPABILITY_NAMED_IAM'],
          TemplateBody: JSON.stringify(roles),
          Parameters: [...parameters, { ParameterKey: 'ResponderAccountId', ParameterValue: { Ref: 'ResponderAccountId' } }],
          StackInstancesGroup: [{ DeploymentTargets: targets, Regions: ['us-east-1'] }],
        },
      },
      MemberForwardingStackSet: {
        Type: 'AWS::CloudFormation::StackSet',
        // The forwarding rules and the canary schedule name roles the other StackSet creates.
        DependsOn: ['MemberRolesStackSet'],
        Properties: {
          ...common,
          StackSetName: names.stackSetName(stage, 'forwarding'),
          Description: 'root-responder: forward root activity and the pipeline canary to the responder (every region)',
          TemplateBody: JSON.stringify(forwarding),
          Parameters: parameters,
          StackInstancesGroup: [{ DeploymentTargets: targets, Regions: { Ref: 'Regions' } }],
        },
      },
    },
  };
}

function write(serviceDir, stage) {
  const dir = join(serviceDir, '.serverless');
  const responderTemplate = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
  const { forwarding, roles, scp, stackSets } = build(responderTemplate, stage, deployedFunctions(serviceDir));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'member-forwarding.json'), `${JSON.stringify(forwarding, null, 2)}\n`);
  writeFileSync(join(dir, 'member-roles.json'), `${JSON.stringify(roles, null, 2)}\n`);
  writeFileSync(join(dir, 'member-guardrails-scp.json'), `${JSON.stringify(scp, null, 2)}\n`);
  writeFileSync(join(dir, 'organization-stacksets.json'), `${JSON.stringify(stackSets, null, 2)}\n`);
}

/** A local Serverless plugin: after `serverless package`, write the member templates beside the responder's. */
class MemberTemplatesPlugin {
  constructor(serverless, options) {
    this.hooks = {
      'after:package:finalize': () => write(serverless.serviceDir ?? serverless.config.servicePath, options.stage || serverless.service.provider.stage || 'dev'),
    };
  }
}

module.exports = MemberTemplatesPlugin;
module.exports.build = build;
module.exports.guardrailsScp = guardrailsScp;
module.exports.FORWARDED_RULES = FORWARDED_RULES;
