import { errorCodeOf, eventName, eventSource, identity, type JsonObject, obj, str } from './cloudtrail';
import { slug } from './text';
import { BUILT_UNDOS, type Exposure, type ExposureContext, exposureFindings, undoTarget } from './exposure';
import { policyUndoTask } from './resource-policy';
import { CATEGORIES, maxSeverity, type Severity, triage, type Triage, type TriageContext } from './triage';

/**
 * Findings: what the root activity of an incident window means, in a responder's words, each with
 * the event ids behind it; and the attacker changes that a remediation could undo. Pure.
 * "Benign" only means "does not open an incident": inside the window every root-session event is
 * reviewed, including those a service made for root (CloudFormation creating an IAM user).
 */
export interface Finding {
  id: string;
  category: (typeof FINDING_CATEGORIES)[number];
  severity: Severity;
  title: string;
  detail: string;
  evidence: string[];
  /** For an exposure or compute-abuse finding: exactly what changed, for the undo (exposure.ts). */
  exposure?: Exposure;
}

/** Event ids a finding names in the assessment and the report; `evidenceTotal` keeps the count (the bundle has them all). */
export const MAX_EVIDENCE_IDS = 100;

export function capEvidence<F extends Finding>(finding: F): F & { evidenceTotal: number } {
  return { ...finding, evidence: finding.evidence.slice(0, MAX_EVIDENCE_IDS), evidenceTotal: finding.evidence.length };
}

export const REMEDIATION_ACTIONS = [
  'quarantine-iam-user',
  'delete-root-access-key',
  'restore-alternate-contact',
  'restart-trail',
  'enable-guardduty-detector',
  'restore-trust-policy',
  'attach-deny-root-scp',
  'deactivate-root-mfa-device',
  'delete-root-password',
  // The exposure undos the registry runs, listed once (exposure.ts).
  ...BUILT_UNDOS,
] as const;
export type RemediationAction = (typeof REMEDIATION_ACTIONS)[number];

/** The categories a finding can have: a triage category, a detection (GuardDuty), or what a principal root created did. */
export const FINDING_CATEGORIES = [...CATEGORIES, 'detection', 'attacker-principal', 'exposure', 'compute-abuse'] as const;

/** How the approval page words each exposure undo, before its target. */
const UNDO_TEXT = {
  'revoke-security-group-ingress': 'Revoke the ingress rule root added: security group',
  'remove-launch-permission': 'Remove the launch permission root added: AMI',
  'stop-instances': 'Stop (not terminate) the instances launched:',
  'remove-snapshot-share': 'Remove the createVolumePermission root added: EBS snapshot',
  'remove-db-snapshot-share': 'Remove the restore values root added: RDS snapshot of a DB',
  'restore-public-access-block': 'Restore S3 Block Public Access ("default": none recorded before, so all four on):',
  'revert-bucket-acl': 'Remove exactly the public grants root added, keeping every other grant and the owner: bucket',
  // Worded in full by policyUndoTask (resource-policy.ts).
  'revert-bucket-policy': 'Revert the policy root set: bucket',
  'revert-key-policy': 'Revert the policy root set: KMS key',
  'revoke-kms-grant': 'Revoke the KMS grant root created: key and grant id',
  'remove-lambda-permission': 'Remove the resource-policy statement root added: function, statement id, principal, action',
  'require-function-url-auth': 'Require IAM auth (AWS_IAM) on the function URL root opened: function',
  'disassociate-resource-share': 'Remove the outside principals root added: resource share and principals',
} as const;

export interface ProposedRemediation {
  id: string;
  action: RemediationAction;
  target: string;
  region: string;
  /** Exactly what would be undone, for the approval page. */
  undo: string;
  evidence: string[];
  /** The task's steps when a person does part of it (default: approve or reject). */
  steps?: string[];
}

export interface WindowEvent {
  region: string;
  record: JsonObject;
  /** How the event was found: "root", "billing", "access-key-<id>", "user-<name>". */
  query: string;
}

interface Classified extends WindowEvent {
  t: Triage;
  id: string;
  at: string;
}

function eventId(e: WindowEvent, i: number): string {
  return str(e.record['eventID']) ?? `${e.region}-${i}`;
}

const params = (r: JsonObject) => obj(r['requestParameters']) ?? {};
const response = (r: JsonObject) => obj(r['responseElements']) ?? {};
const failedNote = (r: JsonObject) => (errorCodeOf(r) ? ` (attempt failed: ${errorCodeOf(r)})` : '');

/** Group events and turn each group into one finding. */
export function classifyWindow(
  events: WindowEvent[],
  ctx: TriageContext & { exposure?: ExposureContext },
): { findings: Finding[]; remediations: ProposedRemediation[]; classified: number } {
  const classified: Classified[] = events.map((e, i) => ({
    ...e,
    t: triage(e.record, ctx),
    id: eventId(e, i),
    at: str(e.record['eventTime']) ?? '',
  }));
  classified.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const findings: Finding[] = [];
  const remediations: ProposedRemediation[] = [];
  const byUser = new Map<string, Classified[]>();
  const readOnly: Classified[] = [];
  const other = new Map<string, Classified[]>();
  const failedSignIns: Classified[] = [];

  // The same change seen again (a retried call, the same trail twice) adds evidence, not a finding.
  const byId = new Map<string, Finding>();
  const add = (f: Finding) => {
    const existing = byId.get(f.id);
    if (existing) {
      existing.evidence.push(...f.evidence);
      return;
    }
    byId.set(f.id, f);
    findings.push(f);
  };
  const remediationIds = new Set<string>();
  const propose = (r: ProposedRemediation) => {
    if (remediationIds.has(r.id)) return;
    remediationIds.add(r.id);
    remediations.push(r);
  };

  // What root (or a principal root created) exposed or launched: one specific finding each (exposure.ts).
  const attackerOf = (c: Classified) => (/^(access-key-|user-)/.test(c.query) ? c.query.replace(/^(access-key-|user-)/, '') : undefined);
  const exposed = exposureFindings(
    classified
      .filter((c) => c.t.isRoot || attackerOf(c) !== undefined)
      .map((c) => ({ id: c.id, at: c.at, region: c.region, record: c.record, ...(attackerOf(c) ? { actor: attackerOf(c)! } : {}) })),
    ctx.exposure ?? { accountId: str(classified[0]?.record['recipientAccountId']) ?? '' },
  );
  for (const f of exposed.findings) {
    add(f);
    // An undo the registry runs: proposed for approval, exactly the change the event made.
    const target = f.exposure.undo.status === 'proposed' ? undoTarget(f.exposure) : undefined;
    if (target)
      propose({
        id: `${f.exposure.undo.kind}-${slug(f.exposure.resource.id)}`.slice(0, 80),
        action: f.exposure.undo.kind as RemediationAction,
        target,
        region: f.exposure.resource.region,
        undo: `${UNDO_TEXT[f.exposure.undo.kind as keyof typeof UNDO_TEXT]} ${target} in ${f.exposure.resource.region} (${f.exposure.undo.reversible ? 'reversible' : 'not reversible'}): ${f.title}`,
        evidence: f.evidence,
        ...policyUndoTask(f.exposure, target, f.title),
      });
  }

  for (const c of classified) {
    const r = c.record;
    const name = eventName(r);
    const source = eventSource(r);
    const byAttacker = c.query.startsWith('access-key-') || c.query.startsWith('user-');
    if (byAttacker) {
      const who = c.query.replace(/^(access-key-|user-)/, '');
      const list = other.get(`attacker:${who}`) ?? [];
      list.push(c);
      other.set(`attacker:${who}`, list);
      continue;
    }
    if (!c.t.isRoot && !c.query.startsWith('billing')) continue;
    if (exposed.handled.has(c.id)) continue;

    const userName = str(params(r)['userName']);
    if (
      source === 'iam.amazonaws.com' &&
      userName &&
      /^(Create|Attach|Put|Add|Update|Upload|Tag|Enable)/.test(name) &&
      name !== 'UpdateAssumeRolePolicy'
    ) {
      const list = byUser.get(userName) ?? [];
      list.push(c);
      byUser.set(userName, list);
      continue;
    }
    if (c.t.categories.includes('sign-in-failure')) {
      failedSignIns.push(c);
      continue;
    }
    if (c.t.categories.includes('sign-in')) {
      add({
        id: `sign-in-${slug(c.id)}`,
        category: 'sign-in',
        severity: c.t.severity,
        title: `Root signed in from ${c.t.sourceIPAddress ?? 'an unrecorded address'} at ${c.at}`,
        detail: `${c.t.reasons.join(' ')} User agent: ${str(r['userAgent']) ?? 'not recorded'}.`,
        evidence: [c.id],
      });
      continue;
    }
    if (name === 'CreateAccessKey' && !userName) {
      const keyId = str(obj(response(r)['accessKey'])?.['accessKeyId']) ?? 'unknown';
      add({
        id: `root-access-key-${slug(keyId)}`,
        category: 'root-credentials',
        severity: 'critical',
        title: `Root created an access key for itself (${keyId})${failedNote(r)}`,
        detail: 'Root should never have access keys: a root access key is full, unrestricted API access that survives a password change.',
        evidence: [c.id],
      });
      if (!errorCodeOf(r))
        propose({
          id: `delete-root-access-key-${slug(keyId)}`,
          action: 'delete-root-access-key',
          target: keyId,
          region: c.region,
          undo: `Delete root access key ${keyId}.`,
          evidence: [c.id],
        });
      continue;
    }
    if (['DeactivateMFADevice', 'DeleteVirtualMFADevice'].includes(name)) {
      add({
        id: `mfa-removed-${slug(c.id)}`,
        category: 'mfa-change',
        severity: 'critical',
        title: `Root MFA device ${name === 'DeactivateMFADevice' ? 'deactivated' : 'deleted'}${failedNote(r)}`,
        detail: `${str(params(r)['serialNumber']) ?? 'A device'} was removed from root: attackers disable MFA to keep access.`,
        evidence: [c.id],
      });
      continue;
    }
    if (['CreateVirtualMFADevice', 'EnableMFADevice'].includes(name)) {
      add({
        id: `mfa-added-${slug(c.id)}`,
        category: 'mfa-change',
        severity: 'critical',
        title: `An MFA device was ${name === 'EnableMFADevice' ? 'enabled' : 'created'} for root${failedNote(r)}`,
        detail:
          'An MFA device the attacker registers lets them sign in again after the password is changed. Remove every device you do not hold.',
        evidence: [c.id],
      });
      continue;
    }
    if (name === 'PutAlternateContact' || name === 'DeleteAlternateContact') {
      const type = str(params(r)['alternateContactType']) ?? 'an';
      add({
        id: `alternate-contact-${slug(type)}-${slug(c.id)}`,
        category: 'account-settings',
        severity: 'critical',
        title: `${type} alternate contact ${name === 'PutAlternateContact' ? 'changed' : 'deleted'}${failedNote(r)}`,
        detail: `AWS sends ${type.toLowerCase()} notices to this contact; an attacker's address hides warnings and helps account recovery.`,
        evidence: [c.id],
      });
      if (!errorCodeOf(r))
        propose({
          id: `restore-alternate-contact-${slug(type)}`,
          action: 'restore-alternate-contact',
          target: type,
          region: 'us-east-1',
          undo: `Restore the ${type} alternate contact from the configured baseline (PutAlternateContact).`,
          evidence: [c.id],
        });
      continue;
    }
    if (c.t.categories.includes('logging-tampering')) {
      // Trails are named by name or ARN in requests: report the name.
      const trail = (str(params(r)['name']) ?? 'a trail').split('/').pop()!;
      add({
        id: `logging-${slug(name)}-${slug(trail)}-${slug(c.region)}`,
        category: 'logging-tampering',
        severity: 'critical',
        title: `${name === 'StopLogging' ? 'CloudTrail logging stopped' : `${name} on CloudTrail`} in ${c.region} (${trail})${failedNote(r)}`,
        detail: 'Stopping or narrowing audit logging hides what the attacker does next.',
        evidence: [c.id],
      });
      if (!errorCodeOf(r) && (name === 'StopLogging' || name === 'UpdateTrail' || name === 'PutEventSelectors')) {
        propose({
          id: `restart-trail-${slug(trail)}-${slug(c.region)}`,
          action: 'restart-trail',
          target: trail,
          region: c.region,
          undo: `StartLogging on trail ${trail} in ${c.region}${name === 'StopLogging' ? '' : ' and restore its previous configuration'}.`,
          evidence: [c.id],
        });
      }
      continue;
    }
    if (c.t.categories.includes('detection-tampering')) {
      add({
        id: `detection-${slug(name)}-${slug(c.region)}-${slug(c.id)}`,
        category: 'detection-tampering',
        severity: 'critical',
        title: `${name} (${source}) in ${c.region}${failedNote(r)}`,
        detail: 'Threat detection was changed by root during the incident.',
        evidence: [c.id],
      });
      // Only what turned GuardDuty off: a deleted detector, or one updated to disabled.
      const disabledDetector = name === 'DeleteDetector' || (name === 'UpdateDetector' && params(r)['enable'] === false);
      if (!errorCodeOf(r) && source === 'guardduty.amazonaws.com' && disabledDetector)
        propose({
          id: `enable-guardduty-${slug(c.region)}`,
          action: 'enable-guardduty-detector',
          target: str(params(r)['detectorId']) ?? 'detector',
          region: c.region,
          undo: `Re-enable GuardDuty in ${c.region} (${name === 'DeleteDetector' ? 'root deleted the detector: a new one is created' : 'UpdateDetector --enable'}).`,
          evidence: [c.id],
        });
      continue;
    }
    if (name === 'UpdateAssumeRolePolicy') {
      const role = str(params(r)['roleName']) ?? 'a role';
      add({
        id: `trust-policy-${slug(role)}`,
        category: 'iam-persistence',
        severity: 'critical',
        title: `Trust policy of role ${role} changed${failedNote(r)}`,
        detail: 'A new trust relationship lets an outside principal assume the role.',
        evidence: [c.id],
      });
      if (!errorCodeOf(r))
        propose({
          id: `restore-trust-policy-${slug(role)}`,
          action: 'restore-trust-policy',
          target: role,
          region: 'us-east-1',
          undo: `Restore the trust policy role ${role} had before root changed it, as CloudTrail recorded it (UpdateAssumeRolePolicy); without a record, a person does it.`,
          evidence: [c.id],
        });
      continue;
    }
    if (name === 'CreateSAMLProvider' || name === 'CreateOpenIDConnectProvider') {
      add({
        id: `identity-provider-${slug(c.id)}`,
        category: 'iam-persistence',
        severity: 'critical',
        title: `A new ${name === 'CreateSAMLProvider' ? 'SAML' : 'OIDC'} identity provider was created${failedNote(r)}`,
        detail: 'An identity provider the attacker controls is a way back in through federated roles.',
        evidence: [c.id],
      });
      continue;
    }
    if (name === 'StartPrimaryEmailUpdate' || name === 'AcceptPrimaryEmailUpdate' || name === 'UpdateAccountEmailAddress') {
      add({
        id: `root-email-change-${slug(c.id)}`,
        category: 'account-settings',
        severity: 'critical',
        title: `The account's root email address was changed${name === 'StartPrimaryEmailUpdate' ? ' (started)' : ''}${failedNote(r)}`,
        detail: 'The root email is the recovery path for the root password: whoever holds it can take the account back.',
        evidence: [c.id],
      });
      continue;
    }
    if (name === 'EnableRegion') {
      add({
        id: `region-opt-in-${slug(c.id)}`,
        category: 'account-settings',
        severity: 'critical',
        title: `Region ${str(params(r)['regionName']) ?? ''} enabled${failedNote(r)}`,
        detail: 'A region opted into during the incident may hide resources where nobody looks.',
        evidence: [c.id],
      });
      continue;
    }
    if (name === 'PasswordUpdated' && source === 'signin.amazonaws.com') {
      // Whoever changed it holds the password now: say from where, and whether that is a known network.
      const ip = c.t.sourceIPAddress ?? 'an unrecorded address';
      add({
        id: `root-password-changed-${slug(c.id)}`,
        category: 'root-credentials',
        severity: 'critical',
        title: `Root password changed from ${ip}${ctx.known.contains(c.t.sourceIPAddress ?? undefined) ? ' (a known network)' : ', outside the known networks,'} at ${c.at}${failedNote(r)}`,
        detail: 'Whoever changed the root password can sign in as root; if it was not one of you, recover the account at once.',
        evidence: [c.id],
      });
      continue;
    }
    if (c.t.categories.includes('read-only')) {
      readOnly.push(c);
      continue;
    }
    const key = `${c.t.categories.join(',')}|${name}|${source}`;
    const list = other.get(key) ?? [];
    list.push(c);
    other.set(key, list);
  }

  if (failedSignIns.length > 0) {
    const ips = [...new Set(failedSignIns.map((c) => c.t.sourceIPAddress ?? 'unrecorded'))];
    add({
      id: 'failed-sign-ins',
      category: 'sign-in-failure',
      severity: 'medium',
      title: `${failedSignIns.length} failed root sign-in${failedSignIns.length > 1 ? 's' : ''} from ${ips.join(', ')}`,
      detail: 'Someone tried the root password; a success after failures from the same address is a guessed or stolen password.',
      evidence: failedSignIns.map((c) => c.id),
    });
  }

  for (const [userName, list] of byUser) {
    // Only what succeeded changed the user: a failed call is an attempt, reported but not acted on.
    const succeeded = list.filter((c) => !errorCodeOf(c.record));
    const created = succeeded.some((c) => eventName(c.record) === 'CreateUser');
    const keys = succeeded
      .filter((c) => eventName(c.record) === 'CreateAccessKey')
      .map((c) => str(obj(response(c.record)['accessKey'])?.['accessKeyId']) ?? 'a key');
    const policies = succeeded
      .filter((c) => /Policy$/.test(eventName(c.record)))
      .map((c) => str(params(c.record)['policyArn'])?.split('/').pop() ?? str(params(c.record)['policyName']) ?? 'an inline policy');
    const login = succeeded.some((c) => eventName(c.record) === 'CreateLoginProfile');
    const failed = list.length - succeeded.length;
    const parts = [created ? `created IAM user \`${userName}\`` : `changed IAM user \`${userName}\``];
    if (keys.length) parts.push(`an access key for it (${keys.join(', ')})`);
    if (policies.length) parts.push(`attached ${[...new Set(policies)].join(', ')}`);
    if (login) parts.push('a console password');
    const serviceMade = list.find((c) => c.t.benign);
    const attempts =
      succeeded.length === 0 ? ' (every attempt failed)' : failed > 0 ? ` (${failed} failed attempt${failed > 1 ? 's' : ''})` : '';
    add({
      id: `iam-user-${slug(userName)}`,
      category: 'iam-persistence',
      severity: succeeded.length === 0 ? 'high' : 'critical',
      title: `Root ${succeeded.length === 0 ? `tried to change IAM user \`${userName}\`` : parts.join(', ')}${attempts}`,
      detail: `${list.length} call${list.length > 1 ? 's' : ''}: ${[...new Set(list.map((c) => `${eventName(c.record)}${errorCodeOf(c.record) ? ` (failed: ${errorCodeOf(c.record)})` : ''}`))].slice(0, 20).join(', ')}.${serviceMade ? ` Made through ${str(identity(serviceMade.record)['invokedBy'])} on root's behalf.` : ''} ${
        created
          ? 'A new IAM principal is the usual way an attacker keeps access after root is secured.'
          : 'The user existed before the incident: it is not quarantined automatically. A person reviews what root changed (tags, policies, keys, password) and whether the user is still legitimate.'
      }`,
      evidence: list.map((c) => c.id),
    });
    // Quarantine only users root created during the incident: a pre-existing user may be someone's break-glass account.
    if (created)
      propose({
        id: `quarantine-iam-user-${slug(userName)}`,
        action: 'quarantine-iam-user',
        target: userName,
        region: 'us-east-1',
        undo: `Quarantine IAM user ${userName}, which root created: attach a deny-all inline policy and deactivate its access keys${keys.length ? ` (${keys.join(', ')})` : ''}; its console password is kept. Reversible: delete the policy and reactivate the keys.`,
        evidence: list.map((c) => c.id),
      });
  }

  if (readOnly.length > 0) {
    const names = [...new Set(readOnly.map((c) => eventName(c.record)))];
    add({
      id: 'read-only-calls',
      category: 'read-only',
      severity: 'medium',
      title: `Root made ${readOnly.length} read-only call${readOnly.length > 1 ? 's' : ''} (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', ...' : ''})`,
      detail: 'Enumeration before action: what was read tells what the attacker was looking for.',
      evidence: readOnly.map((c) => c.id),
    });
  }

  for (const [key, list] of other) {
    if (key.startsWith('attacker:')) {
      const who = key.slice('attacker:'.length);
      const names = [...new Set(list.map((c) => `${eventName(c.record)} in ${c.region}`))];
      add({
        id: `attacker-principal-${slug(who)}`,
        category: 'attacker-principal',
        severity: maxSeverity(['high', ...list.map((c) => (c.t.severity === 'critical' ? 'critical' : 'high') as Severity)]),
        title: `${who} (created by root during the incident) made ${list.length} call${list.length > 1 ? 's' : ''}`,
        detail: `${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}.`,
        evidence: list.map((c) => c.id),
      });
      continue;
    }
    const first = list[0]!;
    const name = eventName(first.record);
    const regions = [...new Set(list.map((c) => c.region))];
    add({
      id: `${slug(first.t.categories[0] ?? 'change')}-${slug(name)}-${slug(eventSource(first.record))}`,
      category: first.t.categories[0] ?? 'resource-change',
      severity: maxSeverity(list.map((c) => c.t.severity)),
      title: `Root called ${name} (${eventSource(first.record) || 'unknown service'}) ${list.length}× in ${regions.join(', ')}${list.every((c) => errorCodeOf(c.record)) ? ' (every attempt failed)' : ''}`,
      detail: first.t.reasons.join(' '),
      evidence: list.map((c) => c.id),
    });
  }

  const order: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
  findings.sort((a, b) => order[a.severity] - order[b.severity]);
  return { findings, remediations, classified: classified.length };
}
