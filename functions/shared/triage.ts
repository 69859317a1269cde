import {
  accountIdOf,
  callerAccessKeyId,
  type CloudTrailRecord,
  isWellFormedRecord,
  errorCodeOf,
  eventName,
  eventSource,
  identity,
  identityType,
  isReadOnly,
  isRootIdentity,
  type JsonObject,
  mfaUsed,
  obj,
  signInOutcome,
  str,
} from './cloudtrail';
import { knownSources, type KnownSources } from './known-sources';

/**
 * Triage: classify one CloudTrail record. Pure: no AWS calls, no clock, no environment.
 * Fails open: a root-typed record with odd or missing fields is still judged as root activity.
 */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export const CATEGORIES = [
  'sign-in',
  'sign-in-failure',
  'password-recovery',
  'root-credentials',
  'mfa-change',
  'iam-persistence',
  'logging-tampering',
  'detection-tampering',
  'account-settings',
  'billing',
  'organization',
  'resource-change',
  'read-only',
] as const;
export type Category = (typeof CATEGORIES)[number];

export interface Triage {
  eventId: string | null;
  eventName: string;
  eventSource: string;
  eventTime: string | null;
  accountId: string | null;
  sourceIPAddress: string | null;
  isRoot: boolean;
  benign: boolean;
  startsIncident: boolean;
  severity: Severity;
  categories: Category[];
  reasons: string[];
  /** False when the record does not fit the CloudTrail schema (judged anyway: fail open). */
  parsed: boolean;
}

export interface TriageContext {
  known: KnownSources;
  /** Access key ids of the AssumeRoot sessions this tool opened: their events are ours. */
  ownSessionAccessKeyIds?: ReadonlySet<string>;
}

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

export function maxSeverity(severities: Iterable<Severity>): Severity {
  let best: Severity = 'info';
  for (const s of severities) if (SEVERITY_RANK[s] > SEVERITY_RANK[best]) best = s;
  return best;
}

export function defaultTriageContext(cidrs: readonly string[] = []): TriageContext {
  return { known: knownSources(cidrs) };
}

// ---- what an operation touches ----

const SIGNIN_SOURCE = 'signin.amazonaws.com';
const SIGN_IN_EVENTS = new Set([
  'ConsoleLogin',
  'NonConsoleLogin',
  'ExternalIdPDirectoryLogin',
  'CheckMfa',
  'GetSigninToken',
  'UserAuthentication',
]);
const PASSWORD_RECOVERY_EVENTS = new Set([
  'PasswordRecoveryRequested',
  'PasswordRecoveryCompleted',
  'PasswordRecoveryInitiated',
  'PasswordResetRequested',
]);

const MFA_EVENTS = new Set([
  'CreateVirtualMFADevice',
  'EnableMFADevice',
  'DeactivateMFADevice',
  'DeleteVirtualMFADevice',
  'ResyncMFADevice',
]);
const CREDENTIAL_EVENTS = new Set([
  'CreateAccessKey',
  'DeleteAccessKey',
  'UpdateAccessKey',
  'UploadSigningCertificate',
  'UpdateSigningCertificate',
  'DeleteSigningCertificate',
  'CreateLoginProfile',
  'UpdateLoginProfile',
  'DeleteLoginProfile',
  'ChangePassword',
]);
const IAM_PERSISTENCE_PREFIX = /^(Create|Delete|Attach|Detach|Put|Update|Add|Remove|Tag|Untag|Set|Upload)/;
const IDENTITY_CENTER_SOURCES = new Set(['sso.amazonaws.com', 'sso-directory.amazonaws.com', 'identitystore.amazonaws.com']);

const LOGGING_EVENTS = new Set([
  'StopLogging',
  'DeleteTrail',
  'UpdateTrail',
  'PutEventSelectors',
  'PutInsightSelectors',
  'DeleteEventDataStore',
  'StopEventDataStoreIngestion',
  'UpdateEventDataStore',
  'StopConfigurationRecorder',
  'DeleteConfigurationRecorder',
  'DeleteDeliveryChannel',
  'DeleteLogGroup',
  'DeleteLogStream',
  'PutRetentionPolicy',
  'DeleteFlowLogs',
]);
const DETECTION_SOURCES = new Set([
  'guardduty.amazonaws.com',
  'securityhub.amazonaws.com',
  'access-analyzer.amazonaws.com',
  'macie2.amazonaws.com',
  'inspector2.amazonaws.com',
  'detective.amazonaws.com',
  'events.amazonaws.com',
  'config.amazonaws.com',
]);
const DETECTION_VERB = /^(Delete|Disable|Disassociate|Stop|Update|Remove|Decline|Archive|Create(Filter|IPSet|ThreatIntelSet))/;
const ACCOUNT_SETTINGS_EVENTS = new Set([
  'UpdateAccountPasswordPolicy',
  'DeleteAccountPasswordPolicy',
  'CreateAccountAlias',
  'DeleteAccountAlias',
  'SetSecurityTokenServicePreferences',
  'SetContactAddress',
  'UpdateAccountSettings',
  'PutAccountSetting',
]);
const ACCOUNT_SOURCES = new Set(['account.amazonaws.com', 'supportplans.amazonaws.com', 'support.amazonaws.com']);
const BILLING_SOURCES = new Set([
  'billingconsole.amazonaws.com',
  'billing.amazonaws.com',
  'payments.amazonaws.com',
  'tax.amazonaws.com',
  'taxconsole.amazonaws.com',
  'invoicing.amazonaws.com',
  'budgets.amazonaws.com',
  'ce.amazonaws.com',
  'cur.amazonaws.com',
  'aws-portal.amazonaws.com',
  'purchase-orders.amazonaws.com',
  'freetier.amazonaws.com',
  'billingconductor.amazonaws.com',
]);
const ORGANIZATION_SOURCE = 'organizations.amazonaws.com';

/**
 * Sign-in events: by source; when the source is missing or a placeholder, by eventType or name.
 * A real other source wins: some billing console records carry eventType AwsConsoleSignIn.
 */
export function isSignInEvent(record: CloudTrailRecord): boolean {
  const source = eventSource(record);
  if (source === SIGNIN_SOURCE) return true;
  if (/^[a-z0-9.-]+\.amazonaws\.com$/.test(source)) return false;
  return str(record['eventType']) === 'AwsConsoleSignIn' || SIGN_IN_EVENTS.has(eventName(record));
}

/** Categories of a write (or read) by its operation, independent of who made it. */
export function categoriesOf(record: CloudTrailRecord): Category[] {
  const name = eventName(record);
  const source = eventSource(record);
  const readOnly = isReadOnly(record);
  const found = new Set<Category>();
  if (readOnly) found.add('read-only');
  if (isSignInEvent(record)) {
    if (PASSWORD_RECOVERY_EVENTS.has(name)) found.add('password-recovery');
    else if (name === 'PasswordUpdated') found.add('root-credentials');
    else found.add(signInOutcome(record) === 'failure' ? 'sign-in-failure' : 'sign-in');
    found.delete('read-only');
    return [...found];
  }
  if (readOnly) return [...found];
  if (source === 'iam.amazonaws.com') {
    const params = obj(record['requestParameters']);
    const forUser = str(params?.['userName']) !== undefined;
    if (MFA_EVENTS.has(name)) found.add('mfa-change');
    else if (CREDENTIAL_EVENTS.has(name) && !forUser) found.add('root-credentials');
    else if (ACCOUNT_SETTINGS_EVENTS.has(name)) found.add('account-settings');
    else if (IAM_PERSISTENCE_PREFIX.test(name) || name === 'UpdateAssumeRolePolicy') found.add('iam-persistence');
  }
  if (IDENTITY_CENTER_SOURCES.has(source)) found.add('iam-persistence');
  if (LOGGING_EVENTS.has(name)) found.add('logging-tampering');
  if (DETECTION_SOURCES.has(source) && DETECTION_VERB.test(name) && !found.has('logging-tampering')) found.add('detection-tampering');
  if (ACCOUNT_SOURCES.has(source) || ACCOUNT_SETTINGS_EVENTS.has(name) || name === 'EnableRegion' || name === 'DisableRegion') {
    found.add('account-settings');
  }
  if (BILLING_SOURCES.has(source)) found.add('billing');
  if (source === ORGANIZATION_SOURCE || name === 'CloseAccount') found.add('organization');
  if (found.size === 0) found.add('resource-change');
  return [...found];
}

const CRITICAL_CATEGORIES = new Set<Category>([
  'password-recovery',
  'root-credentials',
  'mfa-change',
  'iam-persistence',
  'logging-tampering',
  'detection-tampering',
  'account-settings',
  'billing',
  'organization',
]);

const CATEGORY_WORDS: Record<Category, string> = {
  'sign-in': 'a sign-in',
  'sign-in-failure': 'a failed sign-in',
  'password-recovery': 'a root password recovery',
  'root-credentials': "a change to root's own credentials (password, access keys or certificates)",
  'mfa-change': 'an MFA device change',
  'iam-persistence': 'IAM principals or policies (a way back in)',
  'logging-tampering': 'audit logging (CloudTrail, Config or log groups)',
  'detection-tampering': 'threat detection (GuardDuty, Security Hub, EventBridge rules ...)',
  'account-settings': 'account settings or contacts',
  billing: 'billing, payment or tax settings',
  organization: 'organization membership or policies',
  'resource-change': 'a resource',
  'read-only': 'a read-only call',
};

// ---- benign root-typed events ----

/** A service acting for root (glue.amazonaws.com ...), not a person: invokedBy names another AWS service. */
function invokingService(record: CloudTrailRecord): string | undefined {
  const invokedBy = str(identity(record)['invokedBy']);
  if (!invokedBy) return undefined;
  if (str(record['sessionCredentialFromConsole']) === 'true') return undefined;
  if (!/^[a-z0-9.-]+\.amazonaws\.com$/.test(invokedBy)) return undefined;
  if (invokedBy === SIGNIN_SOURCE || invokedBy.startsWith('console.') || invokedBy.endsWith('.console.amazonaws.com')) return undefined;
  return invokedBy;
}

/** Why a root-typed record does not start an incident, or undefined when it must. */
export function benignReason(record: CloudTrailRecord, ctx: TriageContext): string | undefined {
  if (str(record['eventType']) === 'AwsServiceEvent') return 'AWS service event (eventType AwsServiceEvent), not a call by a person';
  const keyId = callerAccessKeyId(record);
  if (keyId && ctx.ownSessionAccessKeyIds?.has(keyId)) return `made by this tool's own AssumeRoot session (${keyId})`;
  if (eventName(record) === 'CreateServiceLinkedRole') return "CreateServiceLinkedRole: AWS creates service-linked roles on root's behalf";
  const service = invokingService(record);
  if (service) return `made by ${service} on the account's behalf (userIdentity.invokedBy)`;
  return undefined;
}

// ---- the classifier ----

/** What classify decides; triage() wraps it in the documented line. */
interface Verdict {
  isRoot: boolean;
  benign: boolean;
  startsIncident: boolean;
  severity: Severity;
  categories?: Category[];
  reasons: string[];
}

export function triage(record: CloudTrailRecord, ctx: TriageContext, envelope?: JsonObject): Triage {
  const categories = categoriesOf(record);
  const parsed = isWellFormedRecord(record);
  const v = classify(record, ctx, categories, parsed);
  // One object literal in the documented field order (one shape: fast, and stable output).
  return {
    eventId: str(record['eventID']) ?? null,
    eventName: eventName(record),
    eventSource: eventSource(record),
    accountId: accountIdOf(record, envelope) ?? null,
    sourceIPAddress: str(record['sourceIPAddress']) ?? null,
    isRoot: v.isRoot,
    benign: v.benign,
    startsIncident: v.startsIncident,
    severity: v.severity,
    categories: v.categories ?? categories,
    reasons: v.reasons,
    eventTime: str(record['eventTime']) ?? null,
    parsed,
  };
}

function classify(record: CloudTrailRecord, ctx: TriageContext, categories: Category[], parsed: boolean): Verdict {
  const name = eventName(record);
  const source = eventSource(record);
  const ip = str(record['sourceIPAddress']) ?? null;
  const failure = errorCodeOf(record);
  const failedNote = failure ? ` (the call failed: ${failure}; the attempt still shows who holds root)` : '';
  const unparsedNote = parsed ? [] : ['The record does not fit the CloudTrail schema; judged on the fields present (fail open).'];

  if (!isRootIdentity(record)) {
    const type = identityType(record);
    if (str(record['eventType']) === 'AwsServiceEvent') {
      return {
        isRoot: false,
        benign: true,
        startsIncident: false,
        severity: 'info',
        reasons: ['AWS service event (eventType AwsServiceEvent), not a call by a person.'],
      };
    }
    if (type === undefined && categories.includes('billing')) {
      return {
        isRoot: false,
        benign: false,
        startsIncident: false,
        severity: 'low',
        reasons: [
          'Billing console action with no userIdentity.type: CloudTrail does not say who made it. It does not open an incident by itself; during an open incident it is reviewed with the root activity.',
        ],
      };
    }
    return {
      isRoot: false,
      benign: false,
      startsIncident: false,
      severity: 'info',
      reasons: [`Not the root user (userIdentity.type ${type ?? 'missing'}).`],
    };
  }

  const benign = benignReason(record, ctx);
  if (benign) {
    return { isRoot: true, benign: true, startsIncident: false, severity: 'info', reasons: [`Root-typed but benign: ${benign}.`] };
  }

  const reasons: string[] = [...unparsedNote];
  const viaConsole = str(identity(record)['invokedBy']) === SIGNIN_SOURCE || str(record['sessionCredentialFromConsole']) === 'true';

  if (categories.includes('sign-in') || categories.includes('sign-in-failure')) {
    const outcome = signInOutcome(record);
    if (outcome === 'failure') {
      reasons.push(
        `Failed root sign-in (${name}) from ${ip ?? 'an unrecorded address'}. Does not open an incident by itself; repeated failures suggest someone is guessing the root password.`,
      );
      return { isRoot: true, benign: false, startsIncident: false, severity: 'medium', categories: ['sign-in-failure'], reasons };
    }
    const mfa = mfaUsed(record);
    const known = ctx.known.contains(ip ?? undefined);
    const where = known
      ? `from ${ip}, inside the known source networks`
      : `from ${ip ?? 'an unrecorded address'}, outside the known source networks`;
    const how = mfa === true ? 'with MFA' : mfa === false ? 'without MFA' : 'with no record of MFA';
    const what =
      outcome === 'success' ? 'Root signed in to the console' : `Root sign-in (${name}) of unrecorded outcome, treated as a success`;
    reasons.push(`${what} ${where}, ${how}.`);
    if (known && mfa === true) {
      reasons.push('Known source and MFA: likely a responder, but someone must confirm it was them.');
      return { isRoot: true, benign: false, startsIncident: true, severity: 'high', categories: ['sign-in'], reasons };
    }
    reasons.push('Treat as a compromise until a responder confirms otherwise.');
    return { isRoot: true, benign: false, startsIncident: true, severity: 'critical', categories: ['sign-in'], reasons };
  }

  if (categories.includes('read-only')) {
    reasons.push(
      `Root made a read-only call, ${name} (${source || 'unknown service'})${viaConsole ? ' from a console session' : ''}${failedNote}. Root should not be used at all: attackers enumerate before they act.`,
    );
    return { isRoot: true, benign: false, startsIncident: true, severity: 'medium', reasons };
  }

  const sensitive = categories.filter((c) => CRITICAL_CATEGORIES.has(c));
  const touches = (sensitive.length > 0 ? sensitive : categories).map((c) => CATEGORY_WORDS[c]).join('; ');
  reasons.push(
    `Root called ${name || 'an unnamed operation'} (${source || 'unknown service'})${viaConsole ? ' from a console session' : ''}, which changes ${touches}${failedNote}.`,
  );
  if (sensitive.length > 0) {
    return { isRoot: true, benign: false, startsIncident: true, severity: 'critical', reasons };
  }
  return { isRoot: true, benign: false, startsIncident: true, severity: 'high', reasons };
}
