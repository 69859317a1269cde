import {
  GetAccountSummaryCommand,
  GetLoginProfileCommand,
  ListAccessKeysCommand,
  ListMFADevicesCommand,
  ListSigningCertificatesCommand,
  ListVirtualMFADevicesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import type { Clock } from '#shared/clock';
import { assumeRoot, rootTaskPolicyArn } from '#shared/assume-root';
import type { TargetClients } from '#shared/clients';
import { everyPage } from '#shared/inventory';
import { AccessDeniedError, awsCall, AwsCallError, isAwsError } from '#shared/errors';
import type { RootSnapshot } from '#shared/contracts/snapshot';
import type { SnapshotInput } from '#shared/contracts/workflow-state';
import type { RecordOwnSession } from '#shared/own-session-store';

/**
 * Snapshot Root Credentials: root access keys, signing certificates, MFA devices and password, as
 * they are before anything changes. On the containment path, so every read runs in parallel.
 * - Member account with centralized root access: an AssumeRoot session under the
 *   IAMAuditRootUserCredentials task policy (regional STS, 900 s), IAM calls without UserName:
 *   keys, certificates, every MFA device (hardware and FIDO2 too), password.
 * - Standalone or management account: GetAccountSummary (keys present, MFA on) and the virtual
 *   MFA devices whose User.Arn ends in ":root"; what this cannot see is listed in `notVisible`.
 */
export const requiredPermissions = ['iam:GetAccountSummary', 'iam:ListVirtualMFADevices', 'sts:AssumeRoot'] as const;

export const AUDIT_POLICY_ARN = rootTaskPolicyArn('IAMAuditRootUserCredentials');

export interface SnapshotDeps {
  /** Clients on the target account (its read role in organization mode). */
  clients: TargetClients;
  /** Clients with the responder's own role: AssumeRoot is called from here. */
  responder: TargetClients;
  /** True in organization mode for a member account (not the account the responder runs in). */
  useAssumeRoot: boolean;
  region: string;
  clock: Clock;
  recordOwnSession?: RecordOwnSession;
  /** The root MFA device serial numbers the operators registered for this account, if configured. */
  expectedMfaDevices?: string[];
}

const iso = (d: Date | undefined) => (d ? new Date(d).toISOString() : null);

async function viaAssumeRoot(state: SnapshotInput, deps: SnapshotDeps): Promise<RootSnapshot> {
  const { credentials: session, expiresAt } = await assumeRoot(
    deps.responder,
    deps.region,
    state.accountId,
    'IAMAuditRootUserCredentials',
    deps.clock.now(),
  );
  const iam = deps.responder.iam(session);
  // Under AssumeRoot the IAM calls omit UserName: they act on the root user. The session is
  // recorded as ours at the same time (intake must know its events before CloudTrail delivers them).
  const [, keys, certs, mfa, password] = await Promise.all([
    deps.recordOwnSession?.(state.accountId, session.accessKeyId, expiresAt),
    awsCall('iam:ListAccessKeys', () => iam.send(new ListAccessKeysCommand({}))),
    awsCall('iam:ListSigningCertificates', () => iam.send(new ListSigningCertificatesCommand({}))),
    awsCall('iam:ListMFADevices', () => iam.send(new ListMFADevicesCommand({}))),
    awsCall('iam:GetLoginProfile', () => iam.send(new GetLoginProfileCommand({}))).then(
      () => true,
      (error: unknown) => {
        // No login profile: root has no password (IAM's NoSuchEntity, as SDK v3 names it).
        if (error instanceof AwsCallError && isAwsError(error, NoSuchEntityException)) return false;
        throw error;
      },
    ),
  ]);
  const accessKeys = (keys.AccessKeyMetadata ?? []).map((k) => ({
    AccessKeyId: k.AccessKeyId ?? '',
    Status: k.Status ?? 'Unknown',
    CreateDate: iso(k.CreateDate),
  }));
  const signingCertificates = (certs.Certificates ?? []).map((k) => ({
    CertificateId: k.CertificateId ?? '',
    Status: k.Status ?? 'Unknown',
  }));
  const mfaDevices = (mfa.MFADevices ?? []).map((d) => ({
    SerialNumber: d.SerialNumber ?? '',
    kind: d.SerialNumber?.includes(':mfa/') ? ('virtual' as const) : ('other' as const),
  }));
  return {
    step: 'snapshot-root-credentials',
    status: 'done',
    accountId: state.accountId,
    method: 'assume-root-audit',
    takenAt: deps.clock.now().toISOString(),
    root: {
      accessKeysPresent: accessKeys.length > 0,
      accessKeys,
      signingCertificatesPresent: signingCertificates.length > 0,
      signingCertificates,
      mfaEnabled: mfaDevices.length > 0,
      mfaDevices,
      passwordPresent: password,
    },
    notVisible: [],
    unexpectedMfaDevices: [],
    ownSessionAccessKeyId: session.accessKeyId,
    detail: `AssumeRoot audit session: ${accessKeys.length} root access key(s), ${signingCertificates.length} signing certificate(s), ${mfaDevices.length} MFA device(s), password ${password ? 'present' : 'absent'}.`,
  };
}

async function viaAccountSummary(state: SnapshotInput, deps: SnapshotDeps, notVisible: string[]): Promise<RootSnapshot> {
  const iam = deps.clients.iam();
  const [summary, virtual] = await Promise.all([
    awsCall('iam:GetAccountSummary', () => iam.send(new GetAccountSummaryCommand({}))),
    // Every page: IAM lists 100 devices a page by default (IsTruncated, Marker), and root's device,
    // or one an attacker added, can be on any of them.
    everyPage(async (marker) => {
      const out = await awsCall('iam:ListVirtualMFADevices', () =>
        iam.send(new ListVirtualMFADevicesCommand({ AssignmentStatus: 'Assigned', ...(marker ? { Marker: marker } : {}) })),
      );
      return { items: out.VirtualMFADevices, next: out.IsTruncated ? out.Marker : undefined };
    }),
  ]);
  const map = summary.SummaryMap ?? {};
  // A root virtual MFA device is recognised by its user ARN, never by its (arbitrary) name.
  const rootVirtual = virtual
    .filter((d) => d.User?.Arn?.endsWith(':root'))
    .map((d) => ({ SerialNumber: d.SerialNumber ?? '', kind: 'virtual' as const }));
  const keysPresent = (map['AccountAccessKeysPresent'] ?? 0) > 0;
  const mfaEnabled = (map['AccountMFAEnabled'] ?? 0) > 0;
  return {
    step: 'snapshot-root-credentials',
    status: 'done',
    accountId: state.accountId,
    method: 'account-summary',
    takenAt: deps.clock.now().toISOString(),
    root: {
      accessKeysPresent: keysPresent,
      accessKeys: null,
      signingCertificatesPresent: 'AccountSigningCertificatesPresent' in map ? (map['AccountSigningCertificatesPresent'] ?? 0) > 0 : null,
      signingCertificates: null,
      mfaEnabled,
      mfaDevices: rootVirtual,
      passwordPresent: null,
    },
    notVisible: [
      ...notVisible,
      'root access key ids (only whether any exist): no IAM principal can list them outside an AssumeRoot session',
      'hardware and FIDO2 root MFA devices (only virtual devices are listed)',
      'whether root has a password',
    ],
    unexpectedMfaDevices: [],
    ownSessionAccessKeyId: null,
    detail: `GetAccountSummary: root access keys ${keysPresent ? 'PRESENT' : 'absent'}, root MFA ${mfaEnabled ? 'on' : 'OFF'}; ${rootVirtual.length} root virtual MFA device(s).`,
  };
}

export async function snapshotRootCredentials(state: SnapshotInput, deps: SnapshotDeps): Promise<RootSnapshot> {
  let snapshot: RootSnapshot;
  if (!deps.useAssumeRoot) snapshot = await viaAccountSummary(state, deps, []);
  else {
    try {
      snapshot = await viaAssumeRoot(state, deps);
    } catch (error) {
      if (!(error instanceof AccessDeniedError)) throw error;
      // Centralized root access is off, or this account may not use it: say so, and read what the read role can.
      snapshot = await viaAccountSummary(state, deps, [
        `root's credentials through an AssumeRoot audit session, which was refused (${error.message}): centralized root access may be off for this account. The snapshot read GetAccountSummary instead; a person checks root's keys, password and MFA devices in the console`,
      ]);
    }
  }
  const expected = deps.expectedMfaDevices;
  snapshot.unexpectedMfaDevices = expected
    ? snapshot.root.mfaDevices.map((d) => d.SerialNumber).filter((serial) => !expected.includes(serial))
    : [];
  return snapshot;
}
