import {
  DeleteAccessKeyCommand,
  DeleteSigningCertificateCommand,
  ListAccessKeysCommand,
  ListOrganizationsFeaturesCommand,
  ListSigningCertificatesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import type { Clock } from '#shared/clock';
import { assumeRoot, rootTaskPolicyArn } from '#shared/assume-root';
import type { TargetClients } from '#shared/clients';
import { AccessDeniedError, awsCall, AwsCallError, isAwsError, TransientAwsError } from '#shared/errors';
import type { Timer } from '#shared/rate-limit';
import type { Containment, ContainmentAction } from '#shared/contracts/containment';
import type { ContainInput } from '#shared/contracts/workflow-state';
import type { RecordOwnSession } from '#shared/own-session-store';
import { ENABLE_ROOT_ACCESS, rootAccessUnavailable } from '#shared/root-access';

/**
 * Contain Root Credentials, right after the snapshot, beside evidence collection.
 * - Member account, organization with centralized root access (RootCredentialsManagement and
 *   RootSessions), responder in the management or delegated-admin account: an AssumeRoot session
 *   under IAMDeleteRootUserCredentials, then every root access key and signing certificate is
 *   deleted, all at once. Key ids and creation dates are recorded before deletion.
 * - Standalone or management account: no IAM principal can delete root credentials. The step says
 *   so (status skipped) and the plan asks a person, verified afterwards by GetAccountSummary.
 * Idempotent: a key already gone is success. A refused call or a disabled feature is recorded
 * with exactly what was missing; it turns into a human task and the workflow goes on.
 */
export const requiredPermissions = ['iam:ListOrganizationsFeatures', 'sts:AssumeRoot'] as const;

export const DELETE_POLICY_ARN = rootTaskPolicyArn('IAMDeleteRootUserCredentials');
const NEEDED_FEATURES = ['RootCredentialsManagement', 'RootSessions'] as const;

export interface ContainDeps {
  /** The responder's own role: AssumeRoot and ListOrganizationsFeatures run here. */
  responder: TargetClients;
  /** True in organization mode for a member account. */
  member: boolean;
  region: string;
  clock: Clock;
  timer: Timer;
  recordOwnSession?: RecordOwnSession;
}

const iso = (d: Date | undefined) => (d ? new Date(d).toISOString() : null);

function result(
  state: ContainInput,
  deps: ContainDeps,
  partial: Partial<Containment> & Pick<Containment, 'status' | 'detail'>,
): Containment {
  return {
    step: 'contain-root-credentials',
    accountId: state.accountId,
    blockedBy: null,
    actions: [],
    before: null,
    ownSessionAccessKeyId: null,
    cutOff: deps.member
      ? 'Deleting credentials does not end a root console session that is already open: a deny-all-root SCP on the account ends it (offered as an approved action).'
      : 'No automatic cut-off exists for a root session in a standalone or management account: change the root password and remove unknown MFA devices to end it.',
    ...partial,
  };
}

/** Delete one credential; a few quick retries on throttling, and "already gone" is success. */
async function deleteOne(
  run: () => Promise<unknown>,
  operation: string,
  deps: ContainDeps,
): Promise<{ status: 'done' | 'already-gone' | 'failed'; detail: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      await awsCall(operation, run);
      return { status: 'done', detail: 'deleted' };
    } catch (error) {
      if (error instanceof AwsCallError && isAwsError(error, NoSuchEntityException))
        return { status: 'already-gone', detail: 'already deleted (by someone else, or an earlier attempt)' };
      if (error instanceof TransientAwsError && attempt < 4) {
        await deps.timer.sleep(100 * 2 ** attempt);
        continue;
      }
      return { status: 'failed', detail: `${(error as Error).name}: ${(error as Error).message}`.slice(0, 300) };
    }
  }
}

export async function containRootCredentials(state: ContainInput, deps: ContainDeps): Promise<Containment> {
  if (!deps.member) {
    return result(state, deps, {
      status: 'skipped',
      blockedBy: 'account kind: in a standalone or management account no IAM principal can delete root credentials',
      detail:
        'Root credentials cannot be removed by any IAM principal in this account: a person deletes them in the console (human task), verified by GetAccountSummary.',
    });
  }

  // Round trip 1: the organization's features and the delete session, at once (AssumeRoot is
  // refused anyway when RootSessions is off; the features then say why).
  const [features, assumed] = await Promise.allSettled([
    awsCall('iam:ListOrganizationsFeatures', () => deps.responder.iam().send(new ListOrganizationsFeaturesCommand({}))),
    assumeRoot(deps.responder, deps.region, state.accountId, 'IAMDeleteRootUserCredentials', deps.clock.now()),
  ]);
  for (const r of [features, assumed]) if (r.status === 'rejected' && r.reason instanceof TransientAwsError) throw r.reason;
  // ListOrganizationsFeatures refused because the organization cannot have centralized root access
  // (trusted access for IAM off, ...): that, not AssumeRoot's refusal, is what the responders act on.
  const unavailable = features.status === 'rejected' ? rootAccessUnavailable(features.reason) : undefined;
  if (unavailable && assumed.status === 'rejected') {
    return result(state, deps, {
      status: 'skipped',
      blockedBy: `centralized root access: not available for the organization: ${unavailable}`,
      detail: `Centralized root access management is not available (${unavailable}). ${ENABLE_ROOT_ACCESS} Until then a person deletes the keys in the console.`,
    });
  }
  const missing = features.status === 'fulfilled' ? NEEDED_FEATURES.filter((f) => !(features.value.EnabledFeatures ?? []).includes(f)) : [];
  if (missing.length > 0) {
    return result(state, deps, {
      status: 'skipped',
      blockedBy: `centralized root access: ${missing.join(' and ')} not enabled for the organization`,
      detail: `Centralized root access is not fully enabled (${missing.join(', ')} missing): enable it in IAM > Root access management of the management account. Until then a person deletes the keys in the console.`,
    });
  }
  if (assumed.status === 'rejected') {
    const reason = assumed.reason as Error;
    return result(state, deps, {
      status: 'failed',
      blockedBy:
        `sts:AssumeRoot with IAMDeleteRootUserCredentials${reason instanceof AccessDeniedError ? ' was refused' : ' failed'}: ${reason.message}`.slice(
          0,
          300,
        ),
      detail:
        'Root keys were not deleted: AssumeRoot did not give a session. Check that this role may call sts:AssumeRoot with the delete task policy and that the account is a member. A person deletes the keys in the console.',
    });
  }
  const { credentials: session, expiresAt } = assumed.value;
  const iam = deps.responder.iam(session);

  const deleteKey = async (k: { AccessKeyId: string; Status: string; CreateDate: string | null }): Promise<ContainmentAction> => {
    const r = await deleteOne(() => iam.send(new DeleteAccessKeyCommand({ AccessKeyId: k.AccessKeyId })), 'iam:DeleteAccessKey', deps);
    return {
      action: 'delete-root-access-key',
      target: k.AccessKeyId,
      status: r.status,
      at: deps.clock.now().toISOString(),
      detail: `${r.detail}; was ${k.Status}, created ${k.CreateDate ?? 'unknown'}`,
    };
  };
  const deleteCert = async (c: { CertificateId: string; Status: string; UploadDate: string | null }): Promise<ContainmentAction> => {
    const r = await deleteOne(
      () => iam.send(new DeleteSigningCertificateCommand({ CertificateId: c.CertificateId })),
      'iam:DeleteSigningCertificate',
      deps,
    );
    return {
      action: 'delete-root-signing-certificate',
      target: c.CertificateId,
      status: r.status,
      at: deps.clock.now().toISOString(),
      detail: `${r.detail}; was ${c.Status}, uploaded ${c.UploadDate ?? 'unknown'}`,
    };
  };

  // Round trip 2: delete what the snapshot's audit session saw, and list again at the same time to
  // catch anything created since. Under AssumeRoot every IAM call omits UserName.
  // Nothing seen when the snapshot failed (its Catch wrote an error) or could not list them.
  const snapshotSaw =
    state.snapshot && 'Payload' in state.snapshot && state.snapshot.Payload.status === 'done' ? state.snapshot.Payload.root : undefined;
  const knownKeys = snapshotSaw?.accessKeys ?? [];
  const knownCerts = (snapshotSaw?.signingCertificates ?? []).map((c) => ({ ...c, UploadDate: null as string | null }));
  const [firstDeletes, , keys, certs] = await Promise.all([
    Promise.all([...knownKeys.map(deleteKey), ...knownCerts.map(deleteCert)]),
    // Recorded before CloudTrail can deliver the session's events, so intake knows they are ours.
    deps.recordOwnSession?.(state.accountId, session.accessKeyId, expiresAt),
    awsCall('iam:ListAccessKeys', () => iam.send(new ListAccessKeysCommand({}))),
    awsCall('iam:ListSigningCertificates', () => iam.send(new ListSigningCertificatesCommand({}))),
  ]);
  const listedKeys = (keys.AccessKeyMetadata ?? []).map((k) => ({
    AccessKeyId: k.AccessKeyId ?? '',
    Status: k.Status ?? 'Unknown',
    CreateDate: iso(k.CreateDate),
  }));
  const listedCerts = (certs.Certificates ?? []).map((c) => ({
    CertificateId: c.CertificateId ?? '',
    Status: c.Status ?? 'Unknown',
    UploadDate: iso(c.UploadDate),
  }));
  // Round trip 3, only for credentials the snapshot did not see.
  const seen = new Set([...knownKeys.map((k) => k.AccessKeyId), ...knownCerts.map((c) => c.CertificateId)]);
  const laterDeletes = await Promise.all([
    ...listedKeys.filter((k) => !seen.has(k.AccessKeyId)).map(deleteKey),
    ...listedCerts.filter((c) => !seen.has(c.CertificateId)).map(deleteCert),
  ]);
  const actions = [...firstDeletes, ...laterDeletes];
  const before = {
    accessKeys: [...knownKeys, ...listedKeys.filter((k) => !seen.has(k.AccessKeyId))],
    signingCertificates: [
      ...knownCerts.map((c) => listedCerts.find((l) => l.CertificateId === c.CertificateId) ?? c),
      ...listedCerts.filter((c) => !seen.has(c.CertificateId)),
    ],
  };
  const failed = actions.filter((a) => a.status === 'failed');
  const deleted = actions.filter((a) => a.status === 'done').length;
  return result(state, deps, {
    status: failed.length > 0 ? 'failed' : 'done',
    blockedBy:
      failed.length > 0
        ? failed
            .map((a) => `${a.target}: ${a.detail}`)
            .join('; ')
            .slice(0, 500)
        : null,
    detail:
      actions.length === 0
        ? 'AssumeRoot delete session: root had no access keys and no signing certificates.'
        : `AssumeRoot delete session: ${deleted} deleted, ${actions.filter((a) => a.status === 'already-gone').length} already gone, ${failed.length} failed, of ${before.accessKeys.length} access key(s) and ${before.signingCertificates.length} signing certificate(s).`,
    actions,
    before,
    ownSessionAccessKeyId: session.accessKeyId,
  });
}
