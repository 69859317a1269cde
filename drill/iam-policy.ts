/**
 * A small IAM policy evaluator, enough to judge a call against AWS's root-task policy documents
 * (`./aws-managed-policies/`): statements with `Effect` Allow / Deny, `Action` / `NotAction`,
 * `Resource` / `NotResource` (a string or an array), and IAM wildcards (`*` any run of characters,
 * `?` one character; action names compared case-insensitively, resources case-sensitively).
 *
 * What it does not understand it refuses, loudly, rather than misread: a `Condition` block, a
 * `Principal` / `NotPrincipal` (a resource policy), policy variables (`${...}`), an unknown element.
 * A future version of a root-task policy that adds any of them fails the tests that load it, so
 * the simulated account never applies half of a policy.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asText } from '#shared/text';

export type Effect = 'Allow' | 'Deny';

export interface PolicyStatement {
  Sid?: string;
  Effect: Effect;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
}

export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

/** One request to authorize: the IAM action (`iam:DeleteAccessKey`) and the resource ARN it acts on (or `*`). */
export interface PolicyRequest {
  action: string;
  resource: string;
}

export type Decision = { effect: 'ExplicitDeny'; statement: string } | { effect: 'Allow'; statement: string } | { effect: 'ImplicitDeny' };

/** A policy document uses something this evaluator does not implement (it would otherwise be misread). */
export class UnsupportedPolicyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnsupportedPolicyError';
  }
}

const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource']);

/** Check a parsed JSON policy document and return it typed; throws UnsupportedPolicyError on anything it cannot evaluate. */
export function parsePolicyDocument(document: unknown, label = 'policy'): PolicyDocument {
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw new UnsupportedPolicyError(`${label}: a policy document must be a JSON object`);
  const { Version, Statement, ...rest } = document as Record<string, unknown>;
  if (Object.keys(rest).length > 0)
    throw new UnsupportedPolicyError(`${label}: unsupported top-level element(s) ${Object.keys(rest).join(', ')}`);
  if (Version !== '2012-10-17') throw new UnsupportedPolicyError(`${label}: Version must be "2012-10-17", not ${JSON.stringify(Version)}`);
  const statements = Array.isArray(Statement) ? Statement : [Statement];
  return { Version, Statement: statements.map((s, i) => parseStatement(s, `${label} statement ${i}`)) };
}

function parseStatement(raw: unknown, label: string): PolicyStatement {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new UnsupportedPolicyError(`${label}: a statement must be a JSON object`);
  const s = raw as Record<string, unknown>;
  if ('Condition' in s) {
    throw new UnsupportedPolicyError(
      `${label}${s['Sid'] ? ` (${asText(s['Sid'])})` : ''}: Condition is not supported by this evaluator; evaluating the statement without it would misread the policy`,
    );
  }
  if ('Principal' in s || 'NotPrincipal' in s)
    throw new UnsupportedPolicyError(`${label}: Principal / NotPrincipal (a resource-based policy) is not supported`);
  const unknown = Object.keys(s).filter((k) => !STATEMENT_KEYS.has(k));
  if (unknown.length > 0) throw new UnsupportedPolicyError(`${label}: unsupported element(s) ${unknown.join(', ')}`);
  if (s['Effect'] !== 'Allow' && s['Effect'] !== 'Deny')
    throw new UnsupportedPolicyError(`${label}: Effect must be Allow or Deny, not ${JSON.stringify(s['Effect'])}`);
  if ('Action' in s === 'NotAction' in s) throw new UnsupportedPolicyError(`${label}: exactly one of Action and NotAction is required`);
  if ('Resource' in s === 'NotResource' in s)
    throw new UnsupportedPolicyError(`${label}: exactly one of Resource and NotResource is required`);
  for (const key of ['Action', 'NotAction', 'Resource', 'NotResource'] as const) {
    if (!(key in s)) continue;
    const values = s[key];
    const list = Array.isArray(values) ? values : [values];
    if (list.length === 0 || !list.every((v) => typeof v === 'string' && v.length > 0))
      throw new UnsupportedPolicyError(`${label}: ${key} must be a non-empty string or array of strings`);
    if (list.some((v) => (v as string).includes('${')))
      throw new UnsupportedPolicyError(`${label}: policy variables in ${key} are not supported`);
  }
  return s as unknown as PolicyStatement;
}

const asList = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** IAM wildcard match of a whole string: `*` any run of characters (`:` and `/` included), `?` exactly one. */
export function wildcardMatch(pattern: string, value: string, options: { ignoreCase: boolean }): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[\\s\\S]*')
    .replace(/\?/g, '[\\s\\S]');
  return new RegExp(`^${source}$`, options.ignoreCase ? 'i' : '').test(value);
}

const matchesAction = (patterns: string[], action: string) => patterns.some((p) => wildcardMatch(p, action, { ignoreCase: true }));
const matchesResource = (patterns: string[], resource: string) => patterns.some((p) => wildcardMatch(p, resource, { ignoreCase: false }));

/** True when the statement covers the request: its action and its resource both match (NotAction / NotResource: match none). */
export function statementApplies(statement: PolicyStatement, request: PolicyRequest): boolean {
  const actionMatches =
    statement.Action !== undefined
      ? matchesAction(asList(statement.Action), request.action)
      : !matchesAction(asList(statement.NotAction), request.action);
  if (!actionMatches) return false;
  return statement.Resource !== undefined
    ? matchesResource(asList(statement.Resource), request.resource)
    : !matchesResource(asList(statement.NotResource), request.resource);
}

const sidOf = (document: PolicyDocument, statement: PolicyStatement) =>
  statement.Sid ?? `statement ${document.Statement.indexOf(statement)}`;

/** The decision of one policy on its own: an applicable Deny wins, then an applicable Allow, else an implicit deny. */
export function evaluatePolicy(document: PolicyDocument, request: PolicyRequest): Decision {
  const deny = document.Statement.find((s) => s.Effect === 'Deny' && statementApplies(s, request));
  if (deny) return { effect: 'ExplicitDeny', statement: sidOf(document, deny) };
  const allow = document.Statement.find((s) => s.Effect === 'Allow' && statementApplies(s, request));
  if (allow) return { effect: 'Allow', statement: sidOf(document, allow) };
  return { effect: 'ImplicitDeny' };
}

/**
 * The decision for a call in an `sts:AssumeRoot` session scoped by a root-task policy.
 *
 * What AWS documents: AssumeRoot's `TaskPolicyArn` is "the identity based policy that scopes the
 * session to the privileged tasks that can be performed", one of the AWS managed root-task
 * policies, applied "as a session policy" (STS API Reference, AssumeRoot; the SDKs' AssumeRoot
 * pages). Session policies "limit the permissions" of a session and cannot grant more than the
 * principal has (IAM User Guide, "Permissions for AssumeRole, AssumeRoleWithSAML, and
 * AssumeRoleWithWebIdentity"). The session's principal is the member account's root user, which
 * needs no IAM permission for anything (IAM User Guide, "Delete access keys for the root user":
 * root "requires no additional IAM permissions").
 *
 * What the documents themselves show: all three root-task policies (v1) hold only Deny statements,
 * so if an explicit Allow in the task policy were required, no call at all could succeed in a root
 * session. Hence: the root principal has every permission, the task policy only restricts it, and a
 * call is allowed iff no Deny statement of the task policy applies.
 *
 * AWS does not say what an Allow statement in a task policy would mean (would an Allow then be
 * required, as in an ordinary session policy?), so a task policy with one is refused here rather
 * than guessed at.
 */
export function rootTaskSessionDecision(
  document: PolicyDocument,
  request: PolicyRequest,
): { allowed: true } | { allowed: false; statement: string } {
  const allow = document.Statement.find((s) => s.Effect === 'Allow');
  if (allow)
    throw new UnsupportedPolicyError(
      `root-task policy ${sidOf(document, allow)} is an Allow statement: only Deny-only task policies (as AWS publishes them) are evaluated`,
    );
  const decision = evaluatePolicy(document, request);
  return decision.effect === 'ExplicitDeny' ? { allowed: false, statement: decision.statement } : { allowed: true };
}

/** The AWS managed root-task policies this project holds, copied unchanged into `./aws-managed-policies/`. */
export const ROOT_TASK_POLICY_NAMES = ['IAMAuditRootUserCredentials', 'IAMDeleteRootUserCredentials', 'IAMCreateRootUserPassword'] as const;
export type RootTaskPolicyName = (typeof ROOT_TASK_POLICY_NAMES)[number];
export const MANAGED_POLICIES_DIR = join(__dirname, 'aws-managed-policies');

/** A root-task policy's document, read from its unchanged copy and checked (its `Arn` must name it). */
export function loadRootTaskPolicy(name: RootTaskPolicyName): PolicyDocument {
  const file = JSON.parse(readFileSync(join(MANAGED_POLICIES_DIR, `${name}.json`), 'utf8')) as {
    PolicyName?: unknown;
    Arn?: unknown;
    Document?: unknown;
  };
  if (file.PolicyName !== name || file.Arn !== `arn:aws:iam::aws:policy/root-task/${name}`)
    throw new UnsupportedPolicyError(`${name}.json does not hold the policy ${name}`);
  return parsePolicyDocument(file.Document, name);
}
