import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '#drill/deployment';
import {
  packagedTemplate as read,
  packagedText,
  parsePolicyDocument,
  parseResources,
  parseTemplate,
  propertiesAt,
} from '../helpers-template';

/** The organization-mode templates `serverless package` writes beside the responder's own (read and typed by ../helpers-template). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { FORWARDED_RULES } = require(join(PROJECT_ROOT, 'infra', 'member-templates.cjs')) as { FORWARDED_RULES: string[] };

describe('member account templates', () => {
  it('forward exactly what the responder listens for, to its bus, through the forwarding role', () => {
    const responder = read('cloudformation-template-update-stack.json').Resources;
    const forwarding = read('member-forwarding.json').Resources;
    expect(Object.keys(forwarding).sort()).toEqual([...FORWARDED_RULES.map((id) => `Forward${id}`), 'CanarySchedule'].sort());
    expect(FORWARDED_RULES).toContain('CanaryRule');
    for (const id of FORWARDED_RULES) {
      const rule = propertiesAt(forwarding, `Forward${id}`, 'AWS::Events::Rule');
      const own = propertiesAt(responder, id, 'AWS::Events::Rule');
      expect(rule.EventPattern).toEqual(own.EventPattern);
      // Only AWS's own sources are forwarded (the canary: its exact source), never what a member's principal could PutEvents.
      expect(JSON.stringify((rule.EventPattern as { source?: unknown }).source)).toMatch(
        /^\[("aws\.[a-z]+"|\{"prefix":"aws\."\})\]$|^\["root-responder\.canary"\]$/,
      );
      expect(rule.State).toBe(own.State);
      expect(rule.Targets).toEqual([
        {
          Id: 'responder-bus',
          Arn: { Ref: 'ResponderBusArn' },
          RoleArn: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/root-responder-test-forwarding' },
        },
      ]);
    }
    expect(propertiesAt(forwarding, 'ForwardRootApiCallRule', 'AWS::Events::Rule').State).toBe(
      'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
    );
  });

  it('give the responder a read role and a narrow write role, each trusted only by its own roles', () => {
    const roles = read('member-roles.json').Resources;
    const role = (id: string) => propertiesAt(roles, id, 'AWS::IAM::Role');
    const actions = (r: string) => role(r).Policies![0]!.PolicyDocument.Statement[0]!.Action as string[];
    expect(actions('ReadRole')).toEqual(
      expect.arrayContaining(['cloudtrail:LookupEvents', 'iam:GetAccountSummary', 'account:GetAlternateContact', 'guardduty:GetDetector']),
    );
    expect(actions('ReadRole').some((a) => /^(iam:(Put|Delete|Update|Attach)|account:Put|cloudtrail:Start)/.test(a))).toBe(false);
    // The registry's remediations that act in the member (functions/shared/remediations/); SCPs are managed from the responder.
    expect(actions('WriteRole')).toEqual([
      'account:PutAlternateContact',
      'cloudtrail:DescribeTrails',
      'cloudtrail:LookupEvents',
      'cloudtrail:StartLogging',
      'ec2:DescribeImageAttribute',
      'ec2:DescribeInstances',
      'ec2:DescribeSecurityGroupRules',
      'ec2:DescribeSnapshotAttribute',
      'ec2:ModifyImageAttribute',
      'ec2:ModifySnapshotAttribute',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:StopInstances',
      'guardduty:CreateDetector',
      'guardduty:GetDetector',
      'guardduty:ListDetectors',
      'guardduty:UpdateDetector',
      'iam:GetRole',
      'iam:ListAccessKeys',
      'iam:PutUserPolicy',
      'iam:UpdateAccessKey',
      'iam:UpdateAssumeRolePolicy',
      'kms:GetKeyPolicy',
      'kms:ListGrants',
      'kms:PutKeyPolicy',
      'kms:RevokeGrant',
      'lambda:GetFunctionUrlConfig',
      'lambda:GetPolicy',
      'lambda:RemovePermission',
      'lambda:UpdateFunctionUrlConfig',
      'ram:DisassociateResourceShare',
      'ram:GetResourceShareAssociations',
      'rds:DescribeDBClusterSnapshotAttributes',
      'rds:DescribeDBSnapshotAttributes',
      'rds:ModifyDBClusterSnapshotAttribute',
      'rds:ModifyDBSnapshotAttribute',
      's3:DeleteBucketPolicy',
      's3:GetBucketAcl',
      's3:GetBucketPolicy',
      's3:GetBucketPublicAccessBlock',
      's3:PutBucketAcl',
      's3:PutBucketPolicy',
      's3:PutBucketPublicAccessBlock',
    ]);
    // The member's own buckets' policies, ACLs and Block Public Access are read there (the bucket undos' checks); its objects never.
    expect(actions('ReadRole').filter((a) => a.startsWith('s3:'))).toEqual([
      's3:GetBucketAcl',
      's3:GetBucketPolicy',
      's3:GetBucketPublicAccessBlock',
    ]);
    expect([...actions('ReadRole'), ...actions('WriteRole')].filter((a) => a.startsWith('organizations:') && /Polic/.test(a))).toEqual([]);
    for (const r of ['ReadRole', 'WriteRole']) {
      const trust = role(r).AssumeRolePolicyDocument.Statement[0]!;
      expect(trust.Condition!['StringLike']!['aws:PrincipalArn']).toEqual({
        'Fn::Sub': 'arn:${AWS::Partition}:iam::${ResponderAccountId}:role/root-responder-test-*',
      });
      expect(JSON.stringify(roles[r])).not.toMatch(/"Action":\s*"\*"|:\*"/);
    }
    expect(role('ReadRole').RoleName).toBe('root-responder-read');
    expect(role('WriteRole').RoleName).toBe('root-responder-remediate');
    expect(role('ForwardingRole').Policies![0]!.PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: ['events:PutEvents'], Resource: [{ Ref: 'ResponderBusArn' }] },
    ]);
  });

  it('sends the same canary as the responder, on the same schedule, through the canary role', () => {
    const responder = read('cloudformation-template-update-stack.json').Resources;
    const schedule = propertiesAt(read('member-forwarding.json').Resources, 'CanarySchedule', 'AWS::Scheduler::Schedule');
    expect(schedule.ScheduleExpression).toBe('rate(15 minutes)');
    expect(schedule.ScheduleExpression).toBe(propertiesAt(responder, 'CanarySchedule', 'AWS::Scheduler::Schedule').ScheduleExpression);
    expect(schedule.Target.EventBridgeParameters).toEqual({ DetailType: 'Root responder canary', Source: 'root-responder.canary' });
    expect(propertiesAt(responder, 'CanaryRule', 'AWS::Events::Rule').EventPattern).toEqual({ source: ['root-responder.canary'] });
    expect(schedule.Target.RoleArn).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/root-responder-test-canary' });
    const canaryRole = propertiesAt(read('member-roles.json').Resources, 'CanaryRole', 'AWS::IAM::Role');
    expect(canaryRole.RoleName).toBe('root-responder-test-canary');
    expect(canaryRole.AssumeRolePolicyDocument.Statement[0]!.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(canaryRole.Policies![0]!.PolicyDocument.Statement[0]!.Action).toEqual(['events:PutEvents']);
    // The responder's own account names the same roles (its other regions take the forwarding template).
    expect(propertiesAt(responder, 'CanaryRole', 'AWS::IAM::Role').RoleName).toBe('root-responder-test-canary');
    expect(propertiesAt(responder, 'ForwardingRole', 'AWS::IAM::Role').RoleName).toBe('root-responder-test-forwarding');
  });

  it('deploys roles and forwarding to the whole organization as service-managed StackSets, new accounts included', () => {
    const t = read('organization-stacksets.json');
    const roles = propertiesAt(t.Resources, 'MemberRolesStackSet', 'AWS::CloudFormation::StackSet');
    const forwarding = propertiesAt(t.Resources, 'MemberForwardingStackSet', 'AWS::CloudFormation::StackSet');
    for (const set of [roles, forwarding]) {
      expect(set).toMatchObject({ PermissionModel: 'SERVICE_MANAGED', AutoDeployment: { Enabled: true } });
      // Every account under the OUs except the responder's own (its stack already has the roles).
      expect(set.StackInstancesGroup[0]!.DeploymentTargets).toEqual({
        OrganizationalUnitIds: { Ref: 'OrganizationalUnitIds' },
        AccountFilterType: 'DIFFERENCE',
        Accounts: [{ Ref: 'ResponderAccountId' }],
      });
    }
    expect(roles.StackInstancesGroup[0]!.Regions).toEqual(['us-east-1']);
    expect(roles.Capabilities).toEqual(['CAPABILITY_NAMED_IAM']);
    expect(forwarding.StackInstancesGroup[0]!.Regions).toEqual({ Ref: 'Regions' });
    expect(t.Resources['MemberForwardingStackSet']!.DependsOn).toEqual(['MemberRolesStackSet']);
    // The StackSets carry exactly the templates written beside them.
    expect(parseTemplate(roles.TemplateBody)).toEqual(read('member-roles.json'));
    expect(parseTemplate(forwarding.TemplateBody)).toEqual(read('member-forwarding.json'));
    expect(forwarding.TemplateBody.length).toBeLessThan(51_200);
  });

  it('the SCP names every protected resource exactly (infra/names.cjs), never by prefix (tests/unit/member-scp.test.ts evaluates it)', () => {
    const scp = parsePolicyDocument(packagedText('member-guardrails-scp.json'));
    expect(scp.Statement.map((s) => `${s.Sid} ${s.Effect}`)).toEqual([
      'ProtectRootResponderForwarding Deny',
      'ProtectRootResponderCanary Deny',
      'ProtectRootResponderRoles Deny',
      'ProtectRootResponderDeployers Deny',
      'StayInTheOrganization Deny',
    ]);
    expect(scp.Statement[0]!.Resource).toEqual(FORWARDED_RULES.map((id) => `arn:aws:events:*:*:rule/root-responder-test-${id}`));
    expect(scp.Statement[1]).toMatchObject({
      Action: ['scheduler:DeleteSchedule', 'scheduler:UpdateSchedule'],
      Resource: 'arn:aws:scheduler:*:*:schedule/default/root-responder-test-canary',
    });
    expect(scp.Statement[2]!.Resource).toEqual([
      'arn:aws:iam::*:role/root-responder-test-forwarding',
      'arn:aws:iam::*:role/root-responder-test-canary',
      'arn:aws:iam::*:role/root-responder-read',
      'arn:aws:iam::*:role/root-responder-remediate',
    ]);
    expect(scp.Statement[2]!.Action).toEqual(
      expect.arrayContaining(['iam:PutRolePermissionsBoundary', 'iam:DeleteRolePermissionsBoundary']),
    );
    expect(scp.Statement[4]).toEqual({
      Sid: 'StayInTheOrganization',
      Effect: 'Deny',
      Action: ['organizations:LeaveOrganization'],
      Resource: '*',
    });
    expect(JSON.stringify(scp)).not.toMatch(/root-responder-test-\*|root-responder-\*/);
  });

  it('the responder bus accepts only its organization, and only in organization mode', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { load } = require(join(PROJECT_ROOT, 'config', 'load.cjs')) as {
      load: (stage: string, dir?: string) => { busPolicy: unknown };
    };
    expect(load('test').busPolicy).toEqual({});
    const tmp = mkdtempSync(join(tmpdir(), 'cfg-'));
    const base = JSON.parse(readFileSync(join(PROJECT_ROOT, 'config', 'test.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(tmp, 'org.json'), JSON.stringify({ ...base, mode: 'organization', expectedOrganizationId: 'o-a1b2c3d4e5' }));
    const policy = propertiesAt(
      parseResources(load('org', tmp).busPolicy),
      'ResponderBusOrganizationPolicy',
      'AWS::Events::EventBusPolicy',
    );
    expect(policy.Statement).toMatchObject({
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
    });
    writeFileSync(join(tmp, 'noorg.json'), JSON.stringify({ ...base, mode: 'organization' }));
    expect(() => load('noorg', tmp)).toThrow(/needs expectedOrganizationId/);
  });
});
