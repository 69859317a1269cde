import { attachDenyRootScp } from './deny-root-scp';
import { enableGuardDutyDetector } from './guardduty-detector';
import { quarantineIamUser } from './quarantine';
import { restartTrail } from './restart-trail';
import { restoreAlternateContact } from './restore-alternate-contact';
import { deactivateRootMfaDevice, deleteRootAccessKey, deleteRootPassword } from './root-credentials';
import { restoreTrustPolicy } from './trust-policy';
import type { Remediation } from './types';

/**
 * Every remediation the responder can run. Assess Incident proposes only these; Run Approved
 * Action runs, Verify Human Task checks, Request Approval counts approvers and the IAM roles are
 * built from these entries. A new one: its file in this folder, and its line here.
 */
export const REMEDIATIONS = [
  quarantineIamUser,
  restoreAlternateContact,
  restartTrail,
  deleteRootAccessKey,
  deactivateRootMfaDevice,
  deleteRootPassword,
  attachDenyRootScp,
  enableGuardDutyDetector,
  restoreTrustPolicy,
] as const satisfies readonly Remediation[];

export type RegisteredAction = (typeof REMEDIATIONS)[number]['action'];

const BY_ACTION: ReadonlyMap<string, Remediation> = new Map(REMEDIATIONS.map((r) => [r.action, r as Remediation]));

/** The registry's entry for an action, or undefined: nothing runs it. */
export function remediationFor(action: string): Remediation | undefined {
  return BY_ACTION.get(action);
}

/** The IAM actions a phase of every remediation calls (one role runs them all). */
export function remediationPermissions(phase: 'run' | 'verify' | 'undo'): string[] {
  return [...new Set(REMEDIATIONS.flatMap((r) => [...((r as Remediation).permissions[phase] ?? [])]))].sort();
}

export type { Remediation, RunContext, RunOutcome, VerifyContext, RemediationRef } from './types';
