/**
 * A small IAM policy evaluator, enough to judge a call against AWS's root-task policy documents
 * (`./aws-managed-policies/`) and the member SCP: statements with `Effect` Allow / Deny, `Action` /
 * `NotAction`, `Resource` / `NotResource` (a string or an array), and IAM wildcards (`*` any run of
 * characters, `?` one character; action names compared case-insensitively, resources
 * case-sensitively), and `Condition` blocks with the string, ARN, Bool and Null operators (each
 * with its `...IfExists` form) against the request's context keys.
 *
 * What it does not understand it refuses, loudly, rather than misread: another condition operator
 * (`IpAddress`, `DateLessThan`, the `ForAllValues:` / `ForAnyValue:` set qualifiers), a `Principal` /
 * `NotPrincipal` (a resource policy), policy variables (`${...}`), an unknown element. A future
 * version of a root-task policy that adds any of them fails the tests that load it, so the
 * simulated account never applies half of a policy.
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
  /** Operator -> context key -> value(s): every operator, and every key under it, must hold. */
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

/**
 * One request to authorize: the IAM action (`iam:DeleteAccessKey`), the resource ARN it acts on
 * (or `*`), and the request context's condition keys (`aws:PrincipalArn`, ...; a key absent here
 * is absent from the request, as IAM's condition operators define it).
 */
export interface PolicyRequest {
  action: string;
  resource: string;
  context?: Record<string, string>;
}

export type Decision = { effect: 'ExplicitDeny'; statement: string } | { effect: 'Allow'; statement: string } | { effect: 'ImplicitDeny' };

/** A policy document uses something this evaluator does not implement (it would otherwise be misread). */
export class UnsupportedPolicyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnsupportedPolicyError';
  }
}

const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

/**
 * The condition operators this evaluator implements (IAM User Guide, "IAM JSON policy elements:
 * Condition operators"): how a request value is compared with a policy value, and whether the
 * operator is a negation (for which an absent key makes the condition true).
 */
const CONDITION_OPERATORS: Record<string, { match: (policyValue: string, requestValue: string) => boolean; negated: boolean }> = {
  StringEquals: { match: (p, r) => p === r, negated: false },
  StringNotEquals: { match: (p, r) => p === r, negated: true },
  StringEqualsIgnoreCase: { match: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { match: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: true },
  StringLike: { match: (p, r) => wildcardMatch(p, r, { ignoreCase: false }), negated: false },
  StringNotLike: { match: (p, r) => wildcardMatch(p, r, { ignoreCase: false }), negated: true },
  // ARN operators compare each of the six colon-separated parts; a wildcard never crosses a colon.
  ArnEquals: { match: (p, r) => arnMatch(p, r), negated: false },
  ArnLike: { match: (p, r) => arnMatch(p, r), negated: false },
  ArnNotEquals: { match: (p, r) => arnMatch(p, r), negated: true },
  ArnNotLike: { match: (p, r) => arnMatch(p, r), negated: true },
  Bool: { match: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: false },
};

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
  if ('Condition' in s) parseCondition(s['Condition'], `${label}${s['Sid'] ? ` (${asText(s['Sid'])})` : ''}`);
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

function parseCondition(raw: unknown, label: string): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.keys(raw).length === 0)
    throw new UnsupportedPolicyError(`${label}: Condition must be a non-empty JSON object`);
  for (const [operator, block] of Object.entries(raw as Record<string, unknown>)) {
    const base = operator.endsWith('IfExists') ? operator.slice(0, -'IfExists'.length) : operator;
    if (base !== 'Null' && !CONDITION_OPERATORS[base])
      throw new UnsupportedPolicyError(
        `${label}: the condition operator ${operator} is not supported by this evaluator; evaluating the statement without it would misread the policy`,
      );
    if (base === 'Null' && operator !== 'Null') throw new UnsupportedPolicyError(`${label}: NullIfExists is not an IAM condition operator`);
    if (typeof block !== 'object' || block === null || Array.isArray(block) || Object.keys(block).length === 0)
      throw new UnsupportedPolicyError(`${label}: ${operator} must map condition keys to values`);
    for (const [key, values] of Object.entries(block as Record<string, unknown>)) {
      const list = Array.isArray(values) ? values : [values];
      if (list.length === 0 || !list.every((v) => typeof v === 'string'))
        throw new UnsupportedPolicyError(`${label}: ${operator} ${key} must be a string or an array of strings`);
      if (list.some((v) => v.includes('${')))
        throw new UnsupportedPolicyError(`${label}: policy variables in ${operator} ${key} are not supported`);
      if (base === 'Null' && !list.every((v) => v === 'true' || v === 'false'))
        throw new UnsupportedPolicyError(`${label}: Null ${key} must be "true" or "false"`);
    }
  }
}

/** An ARN condition: the six colon-separated parts compared one by one, wildcards within a part. */
function arnMatch(pattern: string, value: string): boolean {
  const p = pattern.split(':');
  const v = value.split(':');
  if (p.length < 6 || v.length < 6) return false;
  // The resource part (the sixth) keeps any further colons.
  const parts = (a: string[]) => [...a.slice(0, 5), a.slice(5).join(':')];
  const [pp, vv] = [parts(p), parts(v)];
  return pp.every((part, i) => wildcardMatch(part, vv[i]!, { ignoreCase: false }));
}

/**
 * Whether a statement's Condition holds for the request: every operator, every key under it. For a
 * key the request lacks: `Null` tests exactly that; `...IfExists` holds; a negated operator
 * (`StringNotEquals`, `ArnNotLike`, ...) holds; any other does not. With several values for a key,
 * a positive operator holds when any value matches, a negated one when none does.
 */
export function conditionHolds(condition: PolicyStatement['Condition'], context: Record<string, string> = {}): boolean {
  if (!condition) return true;
  return Object.entries(condition).every(([operator, block]) => {
    const ifExists = operator.endsWith('IfExists');
    const base = ifExists ? operator.slice(0, -'IfExists'.length) : operator;
    return Object.entries(block).every(([key, raw]) => {
      const values = asList(raw);
      const value = Object.prototype.hasOwnProperty.call(context, key) ? context[key] : undefined;
      if (base === 'Null') return values.every((v) => (v === 'true') === (value === undefined));
      const op = CONDITION_OPERATORS[base];
      if (!op) throw new UnsupportedPolicyError(`the condition operator ${operator} is not supported by this evaluator`);
      if (value === undefined) return ifExists || op.negated;
      const any = values.some((v) => op.match(v, value));
      return op.negated ? !any : any;
    });
  });
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

/** True when the statement covers the request: its action and its resource both match (NotAction / NotResource: match none), and its Condition holds. */
export function statementApplies(statement: PolicyStatement, request: PolicyRequest): boolean {
  const actionMatches =
    statement.Action !== undefined
      ? matchesAction(asList(statement.Action), request.action)
      : !matchesAction(asList(statement.NotAction), request.action);
  if (!actionMatches) return false;
  const resourceMatches =
    statement.Resource !== undefined
      ? matchesResource(asList(statement.Resource), request.resource)
      : !matchesResource(asList(statement.NotResource), request.resource);
  return resourceMatches && conditionHolds(statement.Condition, request.context);
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
  const conditional = document.Statement.find((s) => s.Condition);
  if (conditional)
    throw new UnsupportedPolicyError(
      `root-task policy ${sidOf(document, conditional)} has a Condition: AWS publishes the task policies without one, and a root session's context is not modelled here`,
    );
  const allow = document.Statement.find((s) => s.Effect === 'Allow');
  if (allow)
    throw new UnsupportedPolicyError(
      `root-task policy ${sidOf(document, allow)} is an Allow statement: only Deny-only task policies (as AWS publishes them) are evaluated`,
    );
  const decision = evaluatePolicy(document, request);
  return decision.effect === 'ExplicitDeny' ? { allowed: false, statement: decision.statement } : { allowed: true };
}

/** AWS's default SCP, attached to every root, OU and account unless replaced: allows everything. */
export const FULL_AWS_ACCESS: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'FullAWSAccess', Effect: 'Allow', Action: '*', Resource: '*' }],
};

/**
 * What the SCPs attached to one account allow (AWS Organizations User Guide, "SCP evaluation"): a
 * request is allowed only if no SCP denies it explicitly and at least one allows it (with several
 * levels each level must allow; here, the policies attached at one level). SCPs limit what IAM can
 * grant: an allowed request still needs an identity policy that allows it.
 */
export function serviceControlDecision(policies: PolicyDocument[], request: PolicyRequest): Decision {
  for (const policy of policies) {
    const decision = evaluatePolicy(policy, request);
    if (decision.effect === 'ExplicitDeny') return decision;
  }
  for (const policy of policies) {
    const decision = evaluatePolicy(policy, request);
    if (decision.effect === 'Allow') return decision;
  }
  return { effect: 'ImplicitDeny' };
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
