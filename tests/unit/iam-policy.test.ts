import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  evaluatePolicy,
  FULL_AWS_ACCESS,
  loadRootTaskPolicy,
  MANAGED_POLICIES_DIR,
  parsePolicyDocument,
  ROOT_TASK_POLICY_NAMES,
  rootTaskSessionDecision,
  serviceControlDecision,
  UnsupportedPolicyError,
  wildcardMatch,
  type PolicyDocument,
} from '#drill/iam-policy';
import { PROJECT_ROOT } from '#drill/deployment';

const ROOT = 'arn:aws:iam::111122223333:root';
const BOB = 'arn:aws:iam::111122223333:user/bob';
const audit = loadRootTaskPolicy('IAMAuditRootUserCredentials');
const del = loadRootTaskPolicy('IAMDeleteRootUserCredentials');
const create = loadRootTaskPolicy('IAMCreateRootUserPassword');
const decide = (doc: PolicyDocument, action: string, resource: string) => rootTaskSessionDecision(doc, { action, resource });

describe('the vendored root-task policy documents', () => {
  const shared = join(PROJECT_ROOT, '..', 'shared', 'data', 'aws-managed-policies');

  (existsSync(shared) ? it.each(ROOT_TASK_POLICY_NAMES) : it.skip.each(ROOT_TASK_POLICY_NAMES))(
    '%s.json is an unchanged copy of the shared original',
    (name) => {
      expect(readFileSync(join(MANAGED_POLICIES_DIR, `${name}.json`), 'utf8')).toBe(readFileSync(join(shared, `${name}.json`), 'utf8'));
    },
  );

  it.each(ROOT_TASK_POLICY_NAMES)('%s holds only Deny statements (why a root session needs no Allow from it)', (name) => {
    expect(loadRootTaskPolicy(name).Statement.map((s) => s.Effect)).toEqual(['Deny', 'Deny']);
  });
});

describe('a root-task session, judged by the task policy', () => {
  it('iam:DeleteAccessKey on the root user: allowed under Delete, denied under Audit', () => {
    expect(decide(del, 'iam:DeleteAccessKey', ROOT)).toEqual({ allowed: true });
    expect(decide(audit, 'iam:DeleteAccessKey', ROOT)).toEqual({ allowed: false, statement: 'DenyAllOtherActionsOnAnyResource' });
  });

  it('iam:GetAccountSummary: denied under Delete, allowed under Audit (on *)', () => {
    expect(decide(del, 'iam:GetAccountSummary', '*')).toEqual({ allowed: false, statement: 'DenyAllOtherActionsOnAnyResource' });
    expect(decide(audit, 'iam:GetAccountSummary', '*')).toEqual({ allowed: true });
  });

  it('a credential action on an IAM user is denied by NotResource, under every policy', () => {
    expect(decide(del, 'iam:DeleteAccessKey', BOB)).toEqual({
      allowed: false,
      statement: 'DenyDeletingRootUserCredentialsOnNonRootUserResource',
    });
    expect(decide(audit, 'iam:ListAccessKeys', BOB)).toEqual({ allowed: false, statement: 'DenyAuditingCredentialsOnNonRootUserResource' });
    expect(decide(create, 'iam:CreateLoginProfile', BOB)).toEqual({
      allowed: false,
      statement: 'DenyCreatingPasswordOnNonRootUserResource',
    });
    // UserName "root" names an IAM user called root, not the root user.
    expect(decide(del, 'iam:ListAccessKeys', 'arn:aws:iam::111122223333:user/root')).toMatchObject({ allowed: false });
  });

  it('any non-IAM action is denied, whatever the resource', () => {
    for (const doc of [audit, del, create]) {
      expect(decide(doc, 's3:GetObject', 'arn:aws:s3:::bucket/key')).toEqual({
        allowed: false,
        statement: 'DenyAllOtherActionsOnAnyResource',
      });
      expect(decide(doc, 'sts:AssumeRoot', ROOT)).toMatchObject({ allowed: false });
    }
  });

  it('ListVirtualMFADevices (account level) is in no root-task policy: denied under both', () => {
    expect(decide(audit, 'iam:ListVirtualMFADevices', '*')).toMatchObject({ allowed: false });
    expect(decide(del, 'iam:ListVirtualMFADevices', '*')).toMatchObject({ allowed: false });
  });

  it('the audit reads are allowed on the root user under Audit and Delete; CreateRootUserPassword allows only its two', () => {
    for (const action of [
      'iam:ListAccessKeys',
      'iam:ListSigningCertificates',
      'iam:GetLoginProfile',
      'iam:ListMFADevices',
      'iam:GetUser',
      'iam:GetAccessKeyLastUsed',
    ]) {
      expect({ action, audit: decide(audit, action, ROOT).allowed, del: decide(del, action, ROOT).allowed }).toEqual({
        action,
        audit: true,
        del: true,
      });
    }
    expect(decide(create, 'iam:CreateLoginProfile', ROOT)).toEqual({ allowed: true });
    expect(decide(create, 'iam:GetLoginProfile', ROOT)).toEqual({ allowed: true });
    expect(decide(create, 'iam:ListAccessKeys', ROOT)).toMatchObject({ allowed: false });
  });

  it('action names match case-insensitively, resources case-sensitively', () => {
    expect(decide(del, 'IAM:deleteaccesskey', ROOT)).toEqual({ allowed: true });
    expect(decide(del, 'iam:DeleteAccessKey', 'arn:aws:iam::111122223333:ROOT')).toMatchObject({ allowed: false });
  });

  it('a DeleteVirtualMFADevice on the device ARN is denied by NotResource (the policy names only the root user)', () => {
    expect(decide(del, 'iam:DeleteVirtualMFADevice', ROOT)).toEqual({ allowed: true });
    expect(decide(del, 'iam:DeleteVirtualMFADevice', 'arn:aws:iam::111122223333:mfa/root-account-mfa-device')).toMatchObject({
      allowed: false,
    });
  });

  it('refuses to judge by a task policy that has an Allow statement (AWS does not say whether it would then be required)', () => {
    const withAllow = parsePolicyDocument({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }] });
    expect(() => decide(withAllow, 'iam:ListAccessKeys', ROOT)).toThrow(UnsupportedPolicyError);
  });
});

describe('IAM policy evaluation', () => {
  it('wildcards: * spans any characters (: and / included), ? exactly one', () => {
    expect(wildcardMatch('arn:aws:iam::*:root', ROOT, { ignoreCase: false })).toBe(true);
    expect(wildcardMatch('arn:aws:iam::*:root', 'arn:aws:iam::111122223333:user/root', { ignoreCase: false })).toBe(false);
    expect(wildcardMatch('arn:aws:iam::*', BOB, { ignoreCase: false })).toBe(true);
    expect(wildcardMatch('iam:List*', 'iam:ListAccessKeys', { ignoreCase: true })).toBe(true);
    expect(wildcardMatch('iam:Get?ser', 'iam:GetUser', { ignoreCase: true })).toBe(true);
    expect(wildcardMatch('iam:Get?ser', 'iam:GetUUser', { ignoreCase: true })).toBe(false);
    expect(wildcardMatch('arn:aws:s3:::a.b', 'arn:aws:s3:::aXb', { ignoreCase: false })).toBe(false);
    expect(wildcardMatch('*', '', { ignoreCase: false })).toBe(true);
  });

  it('Deny beats Allow; Allow without Deny allows; nothing applicable is an implicit deny', () => {
    const doc = parsePolicyDocument({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'ReadIam', Effect: 'Allow', Action: ['iam:Get*', 'iam:List*'], Resource: '*' },
        { Sid: 'NoRootKeys', Effect: 'Deny', Action: 'iam:ListAccessKeys', Resource: 'arn:aws:iam::*:root' },
      ],
    });
    expect(evaluatePolicy(doc, { action: 'iam:ListAccessKeys', resource: ROOT })).toEqual({
      effect: 'ExplicitDeny',
      statement: 'NoRootKeys',
    });
    expect(evaluatePolicy(doc, { action: 'iam:ListAccessKeys', resource: BOB })).toEqual({ effect: 'Allow', statement: 'ReadIam' });
    expect(evaluatePolicy(doc, { action: 'iam:DeleteUser', resource: BOB })).toEqual({ effect: 'ImplicitDeny' });
  });

  it('accepts a single statement object and string-valued elements', () => {
    const doc = parsePolicyDocument({ Version: '2012-10-17', Statement: { Effect: 'Deny', NotAction: 'iam:GetUser', NotResource: ROOT } });
    expect(evaluatePolicy(doc, { action: 'iam:GetUser', resource: BOB })).toEqual({ effect: 'ImplicitDeny' });
    expect(evaluatePolicy(doc, { action: 'iam:ListUsers', resource: BOB })).toEqual({ effect: 'ExplicitDeny', statement: 'statement 0' });
    expect(evaluatePolicy(doc, { action: 'iam:ListUsers', resource: ROOT })).toEqual({ effect: 'ImplicitDeny' });
  });

  it('refuses a condition operator it does not implement, so a policy with one is never silently misread', () => {
    const doc = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'OnlyFromOffice',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } },
        },
      ],
    };
    expect(() => parsePolicyDocument(doc, 'future')).toThrow(
      new UnsupportedPolicyError(
        'future statement 0 (OnlyFromOffice): the condition operator NotIpAddress is not supported by this evaluator; evaluating the statement without it would misread the policy',
      ),
    );
    for (const operator of ['ForAnyValue:StringLike', 'DateLessThan', 'NullIfExists'])
      expect(() =>
        parsePolicyDocument({ Version: '2012-10-17', Statement: [{ ...doc.Statement[0], Condition: { [operator]: { k: 'v' } } }] }),
      ).toThrow(UnsupportedPolicyError);
    expect(() =>
      parsePolicyDocument({ Version: '2012-10-17', Statement: [{ ...doc.Statement[0], Condition: { Null: { k: 'yes' } } }] }),
    ).toThrow(/Null k must be "true" or "false"/);
  });

  it('refuses to judge a root-task session by a task policy with a Condition (AWS publishes none; the session context is not modelled)', () => {
    const doc = parsePolicyDocument({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Cond', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': '1' } } },
      ],
    });
    expect(() => rootTaskSessionDecision(doc, { action: 'iam:GetUser', resource: ROOT })).toThrow(/has a Condition/);
  });

  it.each([
    ['Principal', { Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' }],
    ['both Action and NotAction', { Effect: 'Deny', Action: '*', NotAction: 'iam:GetUser', Resource: '*' }],
    ['no Resource', { Effect: 'Deny', Action: '*' }],
    ['an unknown Effect', { Effect: 'deny', Action: '*', Resource: '*' }],
    ['an empty Action list', { Effect: 'Deny', Action: [], Resource: '*' }],
    ['a policy variable', { Effect: 'Deny', Action: '*', Resource: 'arn:aws:iam::*:user/${aws:username}' }],
  ])('refuses a statement with %s', (_what, statement) => {
    expect(() => parsePolicyDocument({ Version: '2012-10-17', Statement: [statement] })).toThrow(UnsupportedPolicyError);
  });

  it('refuses an old Version (policy variables would be literal there)', () => {
    expect(() => parsePolicyDocument({ Version: '2008-10-17', Statement: [] })).toThrow(UnsupportedPolicyError);
  });
});

describe('conditions', () => {
  const ADMIN = 'arn:aws:iam::111122223333:role/Admin';
  const EXEC = 'arn:aws:iam::111122223333:role/stacksets-exec-abc';
  const denyUnless = (operator: string, values: string | string[]) =>
    parsePolicyDocument({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'Guard',
          Effect: 'Deny',
          Action: 'events:DeleteRule',
          Resource: '*',
          Condition: { [operator]: { 'aws:PrincipalArn': values } },
        },
      ],
    });
  const effect = (doc: PolicyDocument, context: Record<string, string>) =>
    evaluatePolicy(doc, { action: 'events:DeleteRule', resource: 'arn:aws:events:us-east-1:111122223333:rule/r', context }).effect;

  it('ArnNotLike: the statement applies to every principal but the exempt ones; to a request without the key, it applies', () => {
    const doc = denyUnless('ArnNotLike', ['arn:aws:iam::*:role/stacksets-exec-*', 'arn:aws:iam::*:role/deploy']);
    expect(effect(doc, { 'aws:PrincipalArn': ADMIN })).toBe('ExplicitDeny');
    expect(effect(doc, { 'aws:PrincipalArn': EXEC })).toBe('ImplicitDeny');
    expect(effect(doc, { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/deploy' })).toBe('ImplicitDeny');
    expect(effect(doc, {})).toBe('ExplicitDeny');
  });

  it('ARN operators compare part by part: a wildcard never spans a colon', () => {
    const doc = denyUnless('ArnLike', 'arn:aws:iam::*:role/x*');
    expect(effect(doc, { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/xyz' })).toBe('ExplicitDeny');
    expect(effect(doc, { 'aws:PrincipalArn': 'arn:aws:iam::1:2:role/xyz' })).toBe('ImplicitDeny');
    expect(effect(doc, { 'aws:PrincipalArn': 'not-an-arn' })).toBe('ImplicitDeny');
    expect(effect(doc, {})).toBe('ImplicitDeny');
  });

  it('string operators: Equals exact, Like with wildcards, IgnoreCase, negations true on an absent key, IfExists true on an absent key', () => {
    expect(effect(denyUnless('StringEquals', ADMIN), { 'aws:PrincipalArn': ADMIN })).toBe('ExplicitDeny');
    expect(effect(denyUnless('StringEquals', ADMIN), { 'aws:PrincipalArn': ADMIN.toUpperCase() })).toBe('ImplicitDeny');
    expect(effect(denyUnless('StringEqualsIgnoreCase', ADMIN), { 'aws:PrincipalArn': ADMIN.toUpperCase() })).toBe('ExplicitDeny');
    expect(effect(denyUnless('StringLike', '*:role/Adm?n'), { 'aws:PrincipalArn': ADMIN })).toBe('ExplicitDeny');
    expect(effect(denyUnless('StringNotLike', '*:role/Adm?n'), { 'aws:PrincipalArn': ADMIN })).toBe('ImplicitDeny');
    expect(effect(denyUnless('StringNotEquals', ADMIN), {})).toBe('ExplicitDeny');
    expect(effect(denyUnless('StringEquals', ADMIN), {})).toBe('ImplicitDeny');
    expect(effect(denyUnless('StringEqualsIfExists', ADMIN), {})).toBe('ExplicitDeny');
    expect(effect(denyUnless('StringEqualsIfExists', ADMIN), { 'aws:PrincipalArn': EXEC })).toBe('ImplicitDeny');
  });

  it('Null: "true" holds when the key is absent, "false" when present (the deny-all-root SCP spares AssumeRoot sessions this way)', () => {
    const doc = parsePolicyDocument({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyRoot',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:root' }, Null: { 'aws:AssumedRoot': 'true' } },
        },
      ],
    });
    const root = 'arn:aws:iam::111122223333:root';
    expect(effect(doc, { 'aws:PrincipalArn': root })).toBe('ExplicitDeny');
    expect(effect(doc, { 'aws:PrincipalArn': root, 'aws:AssumedRoot': 'true' })).toBe('ImplicitDeny');
    expect(effect(doc, { 'aws:PrincipalArn': ADMIN })).toBe('ImplicitDeny');
  });

  it('Bool compares true / false case-insensitively', () => {
    const doc = parsePolicyDocument({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
    });
    expect(effect(doc, { 'aws:SecureTransport': 'FALSE' })).toBe('ExplicitDeny');
    expect(effect(doc, { 'aws:SecureTransport': 'true' })).toBe('ImplicitDeny');
  });

  it('an SCP needs an Allow beside its Denies: alone, a Deny-only SCP allows nothing; with FullAWSAccess, what it does not deny', () => {
    const doc = denyUnless('ArnNotLike', 'arn:aws:iam::*:role/stacksets-exec-*');
    const request = { action: 'events:DeleteRule', resource: 'arn:aws:events:us-east-1:1:rule/r' };
    expect(serviceControlDecision([doc], { ...request, context: { 'aws:PrincipalArn': EXEC } })).toEqual({ effect: 'ImplicitDeny' });
    expect(serviceControlDecision([FULL_AWS_ACCESS, doc], { ...request, context: { 'aws:PrincipalArn': EXEC } })).toEqual({
      effect: 'Allow',
      statement: 'FullAWSAccess',
    });
    expect(serviceControlDecision([FULL_AWS_ACCESS, doc], { ...request, context: { 'aws:PrincipalArn': ADMIN } })).toEqual({
      effect: 'ExplicitDeny',
      statement: 'Guard',
    });
  });
});
