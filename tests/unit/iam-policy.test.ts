import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  evaluatePolicy,
  loadRootTaskPolicy,
  MANAGED_POLICIES_DIR,
  parsePolicyDocument,
  ROOT_TASK_POLICY_NAMES,
  rootTaskSessionDecision,
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

  it('refuses a Condition, so a future policy with conditions is never silently misread', () => {
    const doc = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'OnlyFromVpc', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringNotEquals: { 'aws:SourceVpc': 'vpc-1' } } },
      ],
    };
    expect(() => parsePolicyDocument(doc, 'future')).toThrow(
      new UnsupportedPolicyError(
        'future statement 0 (OnlyFromVpc): Condition is not supported by this evaluator; evaluating the statement without it would misread the policy',
      ),
    );
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
