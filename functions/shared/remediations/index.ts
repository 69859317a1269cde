import { attachDenyRootScp, attachDenyRootScpMeta } from './deny-root-scp';
import {
  removeLaunchPermission,
  removeLaunchPermissionMeta,
  revokeSecurityGroupIngress,
  revokeSecurityGroupIngressMeta,
  stopInstances,
  stopInstancesMeta,
} from './ec2-exposure';
import {
  disassociateResourceShare,
  disassociateResourceShareMeta,
  removeLambdaPermission,
  removeLambdaPermissionMeta,
  requireFunctionUrlAuth,
  requireFunctionUrlAuthMeta,
  revokeKmsGrant,
  revokeKmsGrantMeta,
} from './grants';
import { enableGuardDutyDetector, enableGuardDutyDetectorMeta } from './guardduty-detector';
import { quarantineIamUser, quarantineIamUserMeta } from './quarantine';
import { restartTrail, restartTrailMeta } from './restart-trail';
import { removeDbSnapshotShare, removeDbSnapshotShareMeta, removeSnapshotShare, removeSnapshotShareMeta } from './snapshots';
import { restoreAlternateContact, restoreAlternateContactMeta } from './restore-alternate-contact';
import {
  deactivateRootMfaDevice,
  deactivateRootMfaDeviceMeta,
  deleteRootAccessKey,
  deleteRootAccessKeyMeta,
  deleteRootPassword,
  deleteRootPasswordMeta,
} from './root-credentials';
import { revertBucketPolicy, revertBucketPolicyMeta, revertKeyPolicy, revertKeyPolicyMeta } from './resource-policies';
import { restoreTrustPolicy, restoreTrustPolicyMeta } from './trust-policy';
import { restorePublicAccessBlock, restorePublicAccessBlockMeta, revertBucketAcl, revertBucketAclMeta } from './s3-exposure';
import type { Remediation, RemediationMeta } from './types';

/**
 * Every remediation the responder can run. Assess Incident proposes only these; Run Approved
 * Action runs, Verify Human Task checks, Request Approval counts approvers and the IAM roles are
 * built from these entries. A new one: its file in this folder (its metadata and its code), and
 * its two names here.
 */
export const REMEDIATIONS: readonly Remediation[] = [
  quarantineIamUser,
  restoreAlternateContact,
  restartTrail,
  deleteRootAccessKey,
  deactivateRootMfaDevice,
  deleteRootPassword,
  attachDenyRootScp,
  enableGuardDutyDetector,
  restoreTrustPolicy,
  revokeSecurityGroupIngress,
  removeLaunchPermission,
  stopInstances,
  removeSnapshotShare,
  removeDbSnapshotShare,
  restorePublicAccessBlock,
  revertBucketAcl,
  revertBucketPolicy,
  revertKeyPolicy,
  revokeKmsGrant,
  removeLambdaPermission,
  requireFunctionUrlAuth,
  disassociateResourceShare,
];

/** The same entries without their code (what the steps that only propose, count or grant need). */
export const CATALOG: readonly RemediationMeta[] = [
  quarantineIamUserMeta,
  restoreAlternateContactMeta,
  restartTrailMeta,
  deleteRootAccessKeyMeta,
  deactivateRootMfaDeviceMeta,
  deleteRootPasswordMeta,
  attachDenyRootScpMeta,
  enableGuardDutyDetectorMeta,
  restoreTrustPolicyMeta,
  revokeSecurityGroupIngressMeta,
  removeLaunchPermissionMeta,
  stopInstancesMeta,
  removeSnapshotShareMeta,
  removeDbSnapshotShareMeta,
  restorePublicAccessBlockMeta,
  revertBucketAclMeta,
  revertBucketPolicyMeta,
  revertKeyPolicyMeta,
  revokeKmsGrantMeta,
  removeLambdaPermissionMeta,
  requireFunctionUrlAuthMeta,
  disassociateResourceShareMeta,
];

/** The registry's entry for an action, or undefined: nothing runs it. */
export function remediationFor(action: string): Remediation | undefined {
  return REMEDIATIONS.find((r) => r.action === action);
}

/** The entry's metadata (whether it is registered, how many approve it), without pulling its code into a bundle. */
export function catalogEntry(action: string): RemediationMeta | undefined {
  return CATALOG.find((r) => r.action === action);
}

/** The IAM actions a phase of every remediation calls (one role runs them all). */
export function remediationPermissions(phase: 'run' | 'verify' | 'undo'): string[] {
  return [...new Set(CATALOG.flatMap((r) => [...(r.permissions[phase] ?? [])]))].sort();
}

export type { Remediation, RemediationMeta, RunContext, RunOutcome, VerifyContext, RemediationRef } from './types';
