import { reviewTasks } from '#shared/review-tasks';
import { failureReason } from '#shared/report-text';
import {
  type EvidenceBundle,
  type EvidenceRef,
  evidencePermissions,
  evidenceReadPermissions,
  INCIDENT_FILES,
  type ObjectReader,
  readJson,
} from '#shared/evidence';
import { capEvidence, type Finding, type ProposedRemediation } from '#shared/findings';
import { catalogEntry } from '#shared/remediations/index';
import { maxSeverity, SEVERITY_RANK, type Severity } from '#shared/triage';
import { type AssessmentSummary, type HumanTask, type StepSummary, taskRef } from '#shared/contracts/assessment';
import type { CaughtError } from '#shared/contracts/common';
import { containmentOf } from '#shared/contracts/containment';
import { evidenceCollectionOf } from '#shared/contracts/evidence-collection';
import { StoredFindingsSchema } from '#shared/contracts/incident-files';
import { rootSnapshotOf } from '#shared/contracts/snapshot';
import type { AssessInput } from '#shared/contracts/workflow-state';

/**
 * Assess Incident: from the trigger, what the automatic steps report and the findings the
 * collection wrote to the evidence bundle, it decides the severity, the findings and the plan: the
 * human tasks that apply to this incident (only those), and whether to ask "was this root sign-in
 * you?" first. `assess` is the pure decision; the step reads the collected findings back, writes the
 * assessment (findings.json, plan.json) to its own folder beside the evidence, and returns what the
 * workflow needs: severity, counts, keys and each task's id, kind and remediation, which the Map's
 * ItemSelector turns into an item with the incident's ids and timing.
 */
export const requiredPermissions = [...evidenceReadPermissions, ...evidencePermissions] as const;

/**
 * The whole assessment, as the assessment folder holds it (findings.json, plan.json); the step
 * returns its summary (contracts/assessment.ts) into the workflow.
 */
export interface Assessment {
  step: 'assess-incident';
  status: 'done';
  severity: Severity;
  findings: Finding[];
  steps: AssessmentSummary['steps'];
  remediations: ProposedRemediation[];
  evidence: EvidenceRef | null;
  plan: { askWasItYou: boolean; closesOnConfirmation: boolean; gate: HumanTask[]; tasks: HumanTask[] };
}

/** What the collection found, read back from its findings.json. */
export interface CollectedFindings {
  findings: Finding[];
  remediations: ProposedRemediation[];
}

export interface AssessDeps {
  /** The first collection's bundle (findings.json). */
  evidence: ObjectReader;
  /** The assessment's own folder. */
  bundle: EvidenceBundle;
  /** The stage config's denyRootScp: the member's deny-root SCP after approval, or at once. */
  denyRootScp?: 'approval' | 'automatic';
}

/**
 * What an automatic step's place in the state says about it: its own report, a Catch's error, or
 * the "Record ... Failure" state's (`error`: the Catch's {Error, Cause}).
 */
type Reported = { status: StepSummary['status']; detail?: string } | { status: 'failed'; error: CaughtError } | CaughtError;

function stepReport(value: Reported | { Payload: Reported } | undefined): StepSummary {
  if (value === undefined) return { status: 'unknown', detail: 'the step reported nothing' };
  const report = 'Payload' in value ? value.Payload : value;
  if ('Error' in report) return { status: 'failed', detail: failureReason(report) };
  if ('error' in report) return { status: 'failed', detail: failureReason(report.error) };
  return { status: report.status, detail: report.detail ?? '' };
}

const TASKS: Record<string, Omit<HumanTask, 'why'>> = {
  'delete-root-access-keys': {
    id: 'delete-root-access-keys',
    kind: 'console',
    title: 'Delete the root access keys',
    steps: [
      'Sign in to the AWS console as the root user of the account.',
      'Open the account menu > Security credentials > Access keys.',
      'Delete every access key listed (root should have none), and every X.509 signing certificate.',
    ],
    verification: 'GetAccountSummary shows AccountAccessKeysPresent = 0.',
  },
  'change-root-password': {
    id: 'change-root-password',
    kind: 'console',
    title: 'Change the root password',
    steps: [
      'Sign in to the AWS console as the root user (the password can only be changed in the console).',
      'Account menu > Security credentials > Update console password.',
      'Use a long, unique password and keep it in a hardware-backed vault under two-person control.',
    ],
    verification: 'A root PasswordUpdated (or password recovery) event after the incident started.',
  },
  'enable-root-mfa': {
    id: 'enable-root-mfa',
    kind: 'console',
    title: 'Re-enable root MFA with a FIDO2 security key',
    steps: [
      'Sign in as root > Security credentials > Multi-factor authentication > Assign MFA device.',
      'Choose "Passkey or security key" and register a hardware FIDO2 key; register a second key as a backup.',
      'Remove any MFA device you do not recognise (an attacker may have added one).',
    ],
    verification: 'GetAccountSummary shows AccountMFAEnabled = 1 and no unknown root MFA device remains.',
  },
  'secure-root-mailbox': {
    id: 'secure-root-mailbox',
    kind: 'console',
    title: "Secure the root user's email mailbox",
    steps: [
      "Change the password of the mailbox that receives the root user's email (the ultimate recovery path).",
      'Enable MFA on that mailbox and review its forwarding rules, recovery addresses and recent sign-ins.',
      'If the mailbox itself was compromised, treat every AWS password reset since the incident start as hostile.',
    ],
    verification: 'Confirmed by the responder (no AWS API can see the mailbox).',
  },
  'review-billing-and-organization': {
    id: 'review-billing-and-organization',
    kind: 'console',
    title: 'Check billing, payment methods, support plan and organization membership',
    steps: [
      'Billing console: payment methods, billing contact and address, tax settings: nothing you did not set.',
      'Support plan unchanged; no open cases you did not open.',
      'Account settings: the account name, contact information and alternate contacts (billing, operations, security) are yours.',
      'Organizations: the account is still a member of your organization (or still standalone).',
    ],
    verification:
      'Alternate contacts and organization membership re-read by API and compared with the baseline; billing confirmed by the responder.',
  },
  'store-root-credentials-safely': {
    id: 'store-root-credentials-safely',
    kind: 'console',
    title: 'Store the root password and MFA keys under two-person control',
    steps: ['Put the new root password and the FIDO2 keys in a physical safe that needs two people to open.', 'Record who holds access.'],
    verification: 'Confirmed by two responders.',
  },
  'contact-aws-support': {
    id: 'contact-aws-support',
    kind: 'console',
    title: 'Contact AWS Support if root access cannot be regained',
    steps: [
      'If you cannot sign in as root, or suspect the account is permanently compromised, open a case with AWS Support at once.',
      'Reject this task if root access is back in your hands.',
    ],
    verification: 'Confirmed by the responder.',
  },
};

function stepsOf(state: AssessInput) {
  const parallel = state.containAndCollect?.Payload;
  return {
    parallel,
    steps: {
      snapshot: stepReport(state.snapshot),
      containment: stepReport(parallel?.containment),
      evidence: stepReport(parallel?.evidence),
    },
  };
}

/** The decision itself, pure: `collected` is what the evidence collection found (nothing when it did not run). */
export function assess(
  state: AssessInput,
  collected: CollectedFindings = { findings: [], remediations: [] },
  options: { denyRootScp?: 'approval' | 'automatic' } = {},
): Assessment {
  const trigger = state.trigger;
  const { parallel, steps } = stepsOf(state);

  const snapshot = rootSnapshotOf(state.snapshot);
  const evidence = evidenceCollectionOf(parallel?.evidence);
  // Evidence ids are capped as the state once carried them; `evidenceTotal` keeps the count.
  const findings: Finding[] = evidence ? collected.findings.map(capEvidence) : [];
  const triggerCovered = trigger.eventId !== null && findings.some((f) => f.evidence.includes(trigger.eventId!));
  if (!triggerCovered) {
    findings.unshift({
      id: 'trigger',
      category: state.source === 'guardduty' ? 'detection' : (trigger.categories[0] ?? 'sign-in'),
      severity: trigger.severity,
      title: `${trigger.eventName || 'Unnamed event'} by root${trigger.sourceIPAddress ? ` from ${trigger.sourceIPAddress}` : ''}`,
      detail: trigger.reasons.join(' '),
      evidence: trigger.eventId ? [trigger.eventId] : [],
    });
  }
  // A member account whose root credentials centralized root access removed: the good state, not "MFA off".
  const credentialsRemoved =
    snapshot?.method === 'assume-root-audit' &&
    !snapshot.root.accessKeysPresent &&
    snapshot.root.signingCertificatesPresent === false &&
    snapshot.root.passwordPresent === false &&
    snapshot.root.mfaDevices.length === 0;
  if (credentialsRemoved) {
    findings.push({
      id: 'root-credentials-removed',
      category: 'root-credentials',
      severity: 'info',
      title: 'Root has no credentials (removed through centralized root access): the recommended state for a member account',
      detail: snapshot.detail,
      evidence: ['snapshot-root-credentials'],
    });
  } else if (snapshot && !snapshot.root.mfaEnabled) {
    findings.push({
      id: 'root-mfa-off',
      category: 'mfa-change',
      severity: 'critical',
      title: 'Root MFA is off',
      detail: snapshot.detail,
      evidence: ['snapshot-root-credentials'],
    });
  }
  for (const serial of snapshot?.unexpectedMfaDevices ?? []) {
    findings.push({
      id: `root-mfa-unexpected-${serial
        .replace(/[^a-zA-Z0-9]+/g, '-')
        .toLowerCase()
        .slice(-40)}`,
      category: 'mfa-change',
      severity: 'critical',
      title: `Root MFA device ${serial} is not one of the expected devices`,
      detail:
        'An MFA device the attacker registered lets them sign in as root again after the password is changed. AWS allows up to 8 root MFA devices.',
      evidence: ['snapshot-root-credentials'],
    });
  }
  const containment = containmentOf(parallel?.containment);
  if (containment?.blockedBy?.startsWith('centralized root access') && !findings.some((f) => f.id === 'centralized-root-access-off')) {
    findings.push({
      id: 'centralized-root-access-off',
      category: 'organization',
      severity: 'high',
      title: 'Centralized root access management is not fully enabled for the organization',
      detail: `${containment.blockedBy}. With it, root credentials of member accounts can be removed from outside the account in seconds: in the management account, IAM > Root access management > Enable, with both "Root credentials management" and "Privileged root actions in member accounts"; then remove the root credentials of every member account. SCPs cannot restrict root in the management account.`,
      evidence: ['contain-root-credentials'],
    });
  }
  if (snapshot?.root.accessKeysPresent) {
    findings.push({
      id: 'root-access-keys-present',
      category: 'root-credentials',
      severity: 'critical',
      title: 'Root has access keys',
      detail: snapshot.detail,
      evidence: ['snapshot-root-credentials'],
    });
  }
  if (state.unparsed) {
    findings.push({
      id: 'trigger-unparsed',
      category: trigger.categories[0] ?? 'sign-in',
      severity: 'medium',
      title: 'The triggering event did not fit the expected schema',
      detail: 'The response ran anyway (fail open). Read the raw event in CloudTrail: a field AWS added, or a forged event.',
      evidence: trigger.eventId ? [trigger.eventId] : [],
    });
  }

  const rank: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
  findings.sort((a, b) => rank[a.severity] - rank[b.severity]);
  const severity = maxSeverity([trigger.severity, ...findings.map((f) => f.severity)]);
  const why = (reason: string) => [reason, ...trigger.reasons];
  const tasks: HumanTask[] = [];
  if (steps.containment.status !== 'done' && snapshot?.root.accessKeysPresent !== false) {
    tasks.push({
      ...TASKS['delete-root-access-keys']!,
      why: why(`Automatic containment did not delete them (${steps.containment.status}).`),
    });
  }
  if (!credentialsRemoved) tasks.push({ ...TASKS['change-root-password']!, why: why('Whoever used root may know the password.') });
  const mfaTouched = trigger.categories.includes('mfa-change') || findings.some((f) => f.category === 'mfa-change');
  if (!credentialsRemoved && (!snapshot || !snapshot.root.mfaEnabled || mfaTouched)) {
    tasks.push({
      ...TASKS['enable-root-mfa']!,
      why: why(
        mfaTouched ? 'Root MFA was changed or is off.' : `Root MFA state is unknown: the snapshot did not run (${steps.snapshot.status}).`,
      ),
    });
  }
  tasks.push({ ...TASKS['secure-root-mailbox']!, why: why('The root email address is the recovery path for the root password.') });
  tasks.push({
    ...TASKS['review-billing-and-organization']!,
    why: why('Root can change billing, support plans, contacts and organization membership, which no other principal can.'),
  });
  tasks.push({
    ...TASKS['store-root-credentials-safely']!,
    why: ['The new root password and MFA keys must not be usable by one person alone.'],
  });
  tasks.push({
    ...TASKS['contact-aws-support']!,
    why: ['Only AWS Support can restore an account whose root user is lost to an attacker.'],
  });
  // Compute abuse no API undoes (a quota request, a function root created): one tracked review task each.
  tasks.push(...reviewTasks(findings));
  // Root access keys are covered by containment (members) and the "delete the root access keys" task
  // (elsewhere), verified by GetAccountSummary: no separate remediation for the keys root created.
  const remediations = (evidence ? collected.remediations : []).filter((r) => r.action !== 'delete-root-access-key');
  if (snapshot?.method === 'assume-root-audit') {
    for (const serial of snapshot.unexpectedMfaDevices) {
      remediations.push({
        id: `deactivate-root-mfa-${serial
          .replace(/[^a-zA-Z0-9]+/g, '-')
          .toLowerCase()
          .slice(-40)}`,
        action: 'deactivate-root-mfa-device',
        target: serial,
        region: 'us-east-1',
        undo: `Deactivate root MFA device ${serial} under an AssumeRoot session (IAMDeleteRootUserCredentials).`,
        evidence: ['snapshot-root-credentials'],
      });
    }
    if (snapshot.root.passwordPresent) {
      remediations.push({
        id: 'delete-root-password',
        action: 'delete-root-password',
        target: state.accountId,
        region: 'us-east-1',
        undo: `Delete the root password of member account ${state.accountId} (DeleteLoginProfile under AssumeRoot): the recommended end state for a member account; root access then needs centralized root access.`,
        evidence: ['snapshot-root-credentials'],
      });
    }
    // Deleting credentials does not end a root console session already open in a member account.
    remediations.push({
      id: 'attach-deny-root-scp',
      action: 'attach-deny-root-scp',
      target: state.accountId,
      region: 'us-east-1',
      undo: `Attach a deny-all-root SCP to account ${state.accountId} (AssumeRoot sessions spared) to end any root session already open; it is detached when the incident closes.`,
      evidence: ['snapshot-root-credentials'],
    });
  }
  // Only what the registry can run is offered (functions/shared/remediations/): nothing says not-implemented after approval.
  const runnable = remediations.filter((r) => catalogEntry(r.action));
  // The stage config may let the deny-root SCP go on without waiting for two responders.
  const automatic = (r: ProposedRemediation) => r.action === 'attach-deny-root-scp' && options.denyRootScp === 'automatic';
  for (const r of runnable) {
    tasks.push({
      id: r.id,
      kind: 'remediation',
      title: `${automatic(r) ? 'Done at once (stage config denyRootScp: automatic)' : 'Approve'}: ${r.undo}`.slice(0, 200),
      why: [`Undoes an attacker change (events ${r.evidence.slice(0, 5).join(', ')}).`],
      steps: r.steps ?? ['Approve to let the responder make this change at once; reject to leave it to people.'],
      verification: 'The change is re-read by API after it runs.',
      remediation: { action: r.action, target: r.target, region: r.region },
      ...(automatic(r) ? { automatic: true } : {}),
    });
  }

  // "Was this you?" is about the sign-in alone, so it is asked only when nothing else in the incident
  // is high or critical: a known-network MFA sign-in followed by an admin user is a compromise,
  // whoever confirms the sign-in. Confirming closes the sign-in finding only.
  const isTriggerSignIn = (f: Finding) =>
    f.id === 'trigger' || (trigger.eventId !== null && f.category === 'sign-in' && f.evidence.includes(trigger.eventId));
  const others = findings.filter((f) => !isTriggerSignIn(f));
  const askWasItYou =
    trigger.isRoot &&
    trigger.severity === 'high' &&
    trigger.categories.includes('sign-in') &&
    others.every((f) => SEVERITY_RANK[f.severity] < SEVERITY_RANK.high);
  // Anything beyond the sign-in (info aside) keeps the incident going after a confirmation: the plan's tasks run.
  const remaining = others.filter((f) => f.severity !== 'info');
  const closesOnConfirmation = askWasItYou && remaining.length === 0;
  const MAX_LISTED = 40;
  const gate: HumanTask[] = askWasItYou
    ? [
        {
          id: 'confirm-expected-sign-in',
          kind: 'gate',
          title: 'Was this root sign-in one of you?',
          why: [
            ...trigger.reasons,
            `Every finding of this incident (${findings.length}):`,
            ...findings
              .slice(0, MAX_LISTED)
              .map((f) => `[${f.severity}] ${f.title}${isTriggerSignIn(f) ? ' (the sign-in you are asked about)' : ''}`),
            ...(findings.length > MAX_LISTED
              ? [`... and ${findings.length - MAX_LISTED} more (findings.json in the assessment folder).`]
              : []),
          ],
          steps: [
            'Approve only if you, or a responder you have spoken to, signed in as root at this time from this address, and everything listed above was you.',
            'Reject if nobody can account for it: the full response then runs.',
          ],
          verification: closesOnConfirmation
            ? 'Two responders must confirm; confirming closes the sign-in finding, and with nothing else found, the incident as expected use.'
            : `Two responders must confirm; confirming closes the sign-in finding only: the ${remaining.length} other finding(s) keep the incident going and the response runs.`,
        },
      ]
    : [];

  return {
    step: 'assess-incident',
    status: 'done',
    severity,
    findings,
    steps,
    remediations: runnable,
    evidence: evidence?.evidence ?? null,
    plan: { askWasItYou, closesOnConfirmation, gate, tasks },
  };
}

/** The step: read what the collection found, assess, keep the assessment beside the evidence, return the summary. */
export async function assessIncident(state: AssessInput, deps: AssessDeps): Promise<AssessmentSummary> {
  const { steps } = stepsOf(state);
  const collected =
    steps.evidence.status === 'done' ? await readJson(deps.evidence, INCIDENT_FILES.evidence.findings, StoredFindingsSchema) : undefined;
  const a = assess(state, collected, { denyRootScp: deps.denyRootScp ?? 'approval' });
  await Promise.all([
    deps.bundle.put(INCIDENT_FILES.assessment.findings, { findings: a.findings, remediations: a.remediations }),
    deps.bundle.put(INCIDENT_FILES.assessment.plan, a.plan),
  ]);
  const stored = await deps.bundle.finish();
  return {
    step: 'assess-incident',
    status: 'done',
    severity: a.severity,
    steps: a.steps,
    counts: { findings: a.findings.length, remediations: a.remediations.length, tasks: a.plan.tasks.length },
    evidence: a.evidence,
    stored: { ...stored, keys: { findings: INCIDENT_FILES.assessment.findings, plan: INCIDENT_FILES.assessment.plan } },
    plan: {
      askWasItYou: a.plan.askWasItYou,
      closesOnConfirmation: a.plan.closesOnConfirmation,
      gate: a.plan.gate.map(taskRef),
      tasks: a.plan.tasks.map(taskRef),
    },
  };
}
