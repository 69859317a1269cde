import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '#local/deployment';

/** The organization-mode templates `serverless package` writes beside the responder's own. */
const dir = join(PROJECT_ROOT, '.serverless');
const read = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { FORWARDED_RULES } = require(join(PROJECT_ROOT, 'infra', 'member-templates.cjs')) as { FORWARDED_RULES: string[] };

describe('member account templates', () => {
  it('forward exactly what the responder listens for, to its bus, through the forwarding role', () => {
    const responder = read('cloudformation-template-update-stack.json').Resources;
    const forwarding = read('member-forwarding.json').Resources;
    expect(Object.keys(forwarding).sort()).toEqual(FORWARDED_RULES.map((id) => `Forward${id}`).sort());
    for (const id of FORWARDED_RULES) {
      const rule = forwarding[`Forward${id}`].Properties;
      expect(rule.EventPattern).toEqual(responder[id].Properties.EventPattern);
      expect(rule.State).toBe(responder[id].Properties.State);
      expect(rule.Targets).toEqual([{ Id: 'responder-bus', Arn: { Ref: 'ResponderBusArn' }, RoleArn: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/root-responder-test-forwarding' } }]);
    }
    expect(forwarding.ForwardRootApiCallRule.Properties.State).toBe('ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS');
  });

  it('give the responder a read role and a narrow write role, each trusted only by its own roles', () => {
    const roles = read('member-roles.json').Resources;
    const actions = (r: string) => roles[r].Properties.Policies[0].PolicyDocument.Statement[0].Action as string[];
    expect(actions('ReadRole')).toEqual(expect.arrayContaining(['cloudtrail:LookupEvents', 'iam:GetAccountSummary', 'account:GetAlternateContact', 'guardduty:GetDetector']));
    expect(actions('ReadRole').some((a) => /^(iam:(Put|Delete|Update|Attach)|account:Put|cloudtrail:Start)/.test(a))).toBe(false);
    expect(actions('WriteRole')).toEqual(['account:PutAlternateContact', 'cloudtrail:StartLogging', 'iam:DeleteLoginProfile', 'iam:ListAccessKeys', 'iam:PutUserPolicy', 'iam:UpdateAccessKey']);
    for (const r of ['ReadRole', 'WriteRole']) {
      const trust = roles[r].Properties.AssumeRolePolicyDocument.Statement[0];
      expect(trust.Condition.StringLike['aws:PrincipalArn']).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:iam::${ResponderAccountId}:role/root-responder-test-*' });
      expect(JSON.stringify(roles[r])).not.toMatch(/"Action":\s*"\*"|:\*"/);
    }
    expect(roles.ReadRole.Properties.RoleName).toBe('root-responder-read');
    expect(roles.WriteRole.Properties.RoleName).toBe('root-responder-remediate');
    expect(roles.ForwardingRole.Properties.Policies[0].PolicyDocument.Statement).toEqual([{ Effect: 'Allow', Action: ['events:PutEvents'], Resource: [{ Ref: 'ResponderBusArn' }] }]);
  });

  it('the SCP stops member principals, root included, from removing the rules and roles', () => {
    const scp = read('member-guardrails-scp.json');
    expect(scp.Statement.map((s: { Effect: string }) => s.Effect)).toEqual(['Deny', 'Deny']);
    expect(scp.Statement[0].Action).toEqual(expect.arrayContaining(['events:DeleteRule', 'events:DisableRule', 'events:RemoveTargets']));
    expect(scp.Statement[1].Resource).toEqual(['arn:aws:iam::*:role/root-responder-*']);
  });

  it('the responder bus accepts only its organization, and only in organization mode', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { load } = require(join(PROJECT_ROOT, 'config', 'load.cjs')) as { load: (stage: string, dir?: string) => { busPolicy: Record<string, any> } }; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(load('test').busPolicy).toEqual({});
    const tmp = mkdtempSync(join(tmpdir(), 'cfg-'));
    const base = JSON.parse(readFileSync(join(PROJECT_ROOT, 'config', 'test.json'), 'utf8'));
    writeFileSync(join(tmp, 'org.json'), JSON.stringify({ ...base, mode: 'organization', expectedOrganizationId: 'o-a1b2c3d4e5' }));
    const policy = load('org', tmp).busPolicy['ResponderBusOrganizationPolicy'].Properties;
    expect(policy.Statement).toMatchObject({ Effect: 'Allow', Action: 'events:PutEvents', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } });
    writeFileSync(join(tmp, 'noorg.json'), JSON.stringify({ ...base, mode: 'organization' }));
    expect(() => load('noorg', tmp)).toThrow(/needs expectedOrganizationId/);
  });
});
