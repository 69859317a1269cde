// Organization mode: what every member account needs, as CloudFormation templates written beside
// the responder's own template at package time (offline, no credentials):
//   .serverless/member-forwarding.json   regional: EventBridge rules that forward root activity and
//                                        the GuardDuty root finding to the responder's bus in
//                                        us-east-1 (a service-managed StackSet: every account, every region)
//   .serverless/member-roles.json        one region: the forwarding role, the read role the responder
//                                        assumes for evidence, and the narrow write role for approved remediations
//   .serverless/member-guardrails-scp.json  an SCP that stops member principals, root included,
//                                        from removing the rules and roles
// The rule patterns are the responder's own intake rules; the role permissions are the actions the
// deployed handlers declare (requiredPermissions), minus what the responder does in its own account.
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
require('tsx/cjs');

const FORWARDED_RULES = ['RootSignInRule', 'RootApiCallRule', 'RootConsoleActionRule', 'RootPasswordRecoveryRule', 'GuardDutyRootFindingRule'];
const READ_FUNCTIONS = ['snapshot-root-credentials', 'collect-evidence', 'verify-incident', 'verify-human-task'];
const WRITE_FUNCTIONS = ['run-approved-action'];
// Not done in member accounts through these roles: the responder's own tables, topics, bucket and
// secrets, and AssumeRoot (called from the responder's account).
const LOCAL_SERVICES = /^(dynamodb|sns|s3|states|secretsmanager|sts):/;
// Read from the responder's own account only (served to the management account / delegated admin).
const RESPONDER_ONLY = new Set(['organizations:DescribeAccount', 'organizations:ListParents', 'organizations:ListAccounts', 'account:GetPrimaryEmail', 'iam:ListOrganizationsFeatures']);

function actionsOf(dirs) {
  const all = new Set();
  for (const dir of dirs) {
    const mod = require(join(__dirname, '..', 'functions', dir, 'handler.ts'));
    for (const action of mod.requiredPermissions) if (!LOCAL_SERVICES.test(action) && !RESPONDER_ONLY.has(action)) all.add(action);
  }
  return [...all].sort();
}

function build(responderTemplate, stage) {
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
            Name: `root-responder-${stage}-${id}`,
            Description: `${rule.Properties.Description} Forwarded to the responder.`,
            EventPattern: rule.Properties.EventPattern,
            State: rule.Properties.State,
            Targets: [
              {
                Id: 'responder-bus',
                Arn: { Ref: 'ResponderBusArn' },
                RoleArn: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/root-responder-${stage}-forwarding` },
              },
            ],
          },
        },
      ]),
    ),
  };
  const trustResponder = { Effect: 'Allow', Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${ResponderAccountId}:root' } }, Action: 'sts:AssumeRole', Condition: { StringLike: { 'aws:PrincipalArn': { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${ResponderAccountId}:role/root-responder-${stage}-*` } } } };
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
          RoleName: `root-responder-${stage}-forwarding`,
          AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
          Policies: [{ PolicyName: 'forward-to-responder', PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['events:PutEvents'], Resource: [{ Ref: 'ResponderBusArn' }] }] } }],
        },
      },
      ReadRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: 'root-responder-read',
          AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [trustResponder] },
          Policies: [{ PolicyName: 'read-evidence', PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actionsOf(READ_FUNCTIONS), Resource: '*' }] } }],
        },
      },
      WriteRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: 'root-responder-remediate',
          AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [trustResponder] },
          Policies: [{ PolicyName: 'approved-remediations', PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actionsOf(WRITE_FUNCTIONS), Resource: '*' }] } }],
        },
      },
    },
  };
  const scp = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ProtectRootResponderForwarding',
        Effect: 'Deny',
        Action: ['events:DeleteRule', 'events:DisableRule', 'events:PutRule', 'events:RemoveTargets', 'events:PutTargets'],
        Resource: `arn:aws:events:*:*:rule/root-responder-${stage}-*`,
        Condition: { ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::*:role/stacksets-exec-*', 'arn:aws:iam::*:role/AWSCloudFormationStackSetExecutionRole'] } },
      },
      {
        Sid: 'ProtectRootResponderRoles',
        Effect: 'Deny',
        Action: ['iam:DeleteRole', 'iam:DeleteRolePolicy', 'iam:PutRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:AttachRolePolicy', 'iam:DetachRolePolicy', 'iam:UpdateRole'],
        Resource: ['arn:aws:iam::*:role/root-responder-*'],
        Condition: { ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::*:role/stacksets-exec-*', 'arn:aws:iam::*:role/AWSCloudFormationStackSetExecutionRole'] } },
      },
    ],
  };
  return { forwarding, roles, scp };
}

function write(serviceDir, stage) {
  const dir = join(serviceDir, '.serverless');
  const responderTemplate = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
  const { forwarding, roles, scp } = build(responderTemplate, stage);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'member-forwarding.json'), `${JSON.stringify(forwarding, null, 2)}\n`);
  writeFileSync(join(dir, 'member-roles.json'), `${JSON.stringify(roles, null, 2)}\n`);
  writeFileSync(join(dir, 'member-guardrails-scp.json'), `${JSON.stringify(scp, null, 2)}\n`);
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
module.exports.FORWARDED_RULES = FORWARDED_RULES;
