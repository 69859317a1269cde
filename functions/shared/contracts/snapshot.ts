import { z } from 'zod';
import { CaughtErrorSchema, invoked, notImplemented } from './common';

/** Snapshot Root Credentials' output: root's keys, certificates, MFA devices and password before anything changes. */
export const RootSnapshotSchema = z.object({
  step: z.literal('snapshot-root-credentials'),
  status: z.literal('done'),
  accountId: z.string(),
  method: z.enum(['assume-root-audit', 'account-summary']),
  takenAt: z.string(),
  root: z.object({
    accessKeysPresent: z.boolean(),
    /** Null when no AssumeRoot session could list them (GetAccountSummary says only whether any exist). */
    accessKeys: z.array(z.object({ AccessKeyId: z.string(), Status: z.string(), CreateDate: z.string().nullable() })).nullable(),
    signingCertificatesPresent: z.boolean().nullable(),
    signingCertificates: z.array(z.object({ CertificateId: z.string(), Status: z.string() })).nullable(),
    mfaEnabled: z.boolean(),
    mfaDevices: z.array(z.object({ SerialNumber: z.string(), kind: z.enum(['virtual', 'other']) })),
    passwordPresent: z.boolean().nullable(),
  }),
  notVisible: z.array(z.string()),
  /** Root MFA devices seen that are not in the configured expected list (empty: none, or no list configured). */
  unexpectedMfaDevices: z.array(z.string()),
  /** The AssumeRoot session this step opened (its key id only), so intake knows its events are ours. */
  ownSessionAccessKeyId: z.string().nullable(),
  detail: z.string(),
});
export type RootSnapshot = z.infer<typeof RootSnapshotSchema>;

/** `$.snapshot`: the snapshot, or the error its Catch wrote (a failed snapshot never stops containment). */
export const SnapshotResultSchema = z.union([
  invoked(z.discriminatedUnion('status', [RootSnapshotSchema, notImplemented('snapshot-root-credentials')])),
  CaughtErrorSchema,
]);
export type SnapshotResult = z.infer<typeof SnapshotResultSchema>;

/** The snapshot, when it ran and saw root's credentials (not when its Catch wrote an error or it is not built). */
export function rootSnapshotOf(result: SnapshotResult | undefined): RootSnapshot | undefined {
  return result && 'Payload' in result && result.Payload.status === 'done' ? result.Payload : undefined;
}
