import { GetAccountSummaryCommand, ListOrganizationsFeaturesCommand } from '@aws-sdk/client-iam';
import { assumeRoot } from '#shared/assume-root';
import { activeAccounts } from '#shared/inventory';
import type { TargetClients } from '#shared/clients';
import { awsCall, TransientAwsError } from '#shared/errors';
import type { Finding } from '#shared/findings';
import type { RecordOwnSession } from '#shared/own-session-store';
import { ENABLE_ROOT_ACCESS, rootAccessUnavailable } from '#shared/root-access';

/**
 * Centralized root access management, organization-wide (organization mode, from the responder's
 * own account): whether the organization has it, and which member accounts still have root
 * credentials (GetAccountSummary under a short AssumeRoot audit session per member). A member that
 * still has root credentials is one more account an attacker can take the way this one was taken.
 */
export const requiredPermissions = ['iam:ListOrganizationsFeatures', 'organizations:ListAccounts', 'sts:AssumeRoot'] as const;

const MAX_MEMBERS = 200;

export interface RootAccessPosture {
  features: string[];
  enabled: boolean;
  /** Why the organization cannot have centralized root access at all (ListOrganizationsFeatures refused: see shared/root-access.ts). */
  notAvailable?: string;
  membersChecked: number;
  membersWithRootCredentials: { accountId: string; name: string; accessKeys: boolean; mfa: boolean }[];
  unchecked: { accountId: string; reason: string }[];
}

export async function readRootAccessPosture(
  responder: TargetClients,
  managementAccountId: string,
  /** Each audit session is recorded as ours, or intake would open an incident for its events. */
  recordOwnSession?: RecordOwnSession,
  now: () => Date = () => new Date(),
): Promise<RootAccessPosture> {
  let features;
  try {
    features = await awsCall('iam:ListOrganizationsFeatures', () => responder.iam().send(new ListOrganizationsFeaturesCommand({})));
  } catch (error) {
    // Trusted access for IAM off, no all-features organization, no organization: off, and why.
    const why = rootAccessUnavailable(error);
    if (!why) throw error;
    return { features: [], enabled: false, notAvailable: why, membersChecked: 0, membersWithRootCredentials: [], unchecked: [] };
  }
  const enabled = ['RootCredentialsManagement', 'RootSessions'].every((f) => (features.EnabledFeatures ?? []).some((e) => e === f));
  const posture: RootAccessPosture = {
    features: features.EnabledFeatures ?? [],
    enabled,
    membersChecked: 0,
    membersWithRootCredentials: [],
    unchecked: [],
  };
  if (!enabled) return posture;
  const members = (await activeAccounts(responder, MAX_MEMBERS)).filter((a) => a.id !== managementAccountId).slice(0, MAX_MEMBERS);
  await Promise.all(
    members.map(async (m) => {
      try {
        const session = await assumeRoot(responder, 'us-east-1', m.id, 'IAMAuditRootUserCredentials', now());
        await recordOwnSession?.(m.id, session.credentials.accessKeyId, session.expiresAt);
        const summary = await awsCall('iam:GetAccountSummary', () =>
          responder.iam(session.credentials).send(new GetAccountSummaryCommand({})),
        );
        posture.membersChecked += 1;
        const map = summary.SummaryMap ?? {};
        const keys = (map['AccountAccessKeysPresent'] ?? 0) > 0;
        const mfa = (map['AccountMFAEnabled'] ?? 0) > 0;
        // Removed root credentials leave no keys, no MFA and no password; keys or MFA mean root can still sign in or call.
        if (keys || mfa) posture.membersWithRootCredentials.push({ accountId: m.id, name: m.name, accessKeys: keys, mfa });
      } catch (error) {
        if (error instanceof TransientAwsError) throw error;
        posture.unchecked.push({ accountId: m.id, reason: (error as Error).message.slice(0, 200) });
      }
    }),
  );
  posture.membersWithRootCredentials.sort((a, b) => a.accountId.localeCompare(b.accountId));
  return posture;
}

export function postureFindings(posture: RootAccessPosture): Finding[] {
  if (posture.notAvailable) {
    return [
      {
        id: 'centralized-root-access-off',
        category: 'organization',
        severity: 'high',
        title: 'Centralized root access management is not available for the organization',
        detail: `iam:ListOrganizationsFeatures: ${posture.notAvailable}, so root credentials of member accounts cannot be removed from outside them. ${ENABLE_ROOT_ACCESS} Then remove the root credentials of every member account. Root in the management account stays unrestricted by SCPs: keep its credentials in a safe under two-person control.`,
        evidence: ['account/root-access.json'],
      },
    ];
  }
  if (!posture.enabled) {
    return [
      {
        id: 'centralized-root-access-off',
        category: 'organization',
        severity: 'high',
        title: 'Centralized root access management is not fully enabled for the organization',
        detail: `Enabled: ${posture.features.join(', ') || 'none'}. In the management account: IAM > Root access management > Enable, with "Root credentials management" and "Privileged root actions in member accounts"; then remove the root credentials of every member account. Root in the management account stays unrestricted by SCPs: keep its credentials in a safe under two-person control.`,
        evidence: ['account/root-access.json'],
      },
    ];
  }
  if (posture.membersWithRootCredentials.length === 0) return [];
  return [
    {
      id: 'members-with-root-credentials',
      category: 'root-credentials',
      severity: 'high',
      title: `${posture.membersWithRootCredentials.length} member account(s) still have root credentials`,
      detail: `${posture.membersWithRootCredentials.map((m) => `${m.accountId}${m.name ? ` (${m.name})` : ''}${m.accessKeys ? ' access keys' : ''}${m.mfa ? ' MFA' : ''}`).join('; ')}. Remove them with centralized root access (IAM > Root access management > the account > Delete root credentials).`,
      evidence: ['account/root-access.json'],
    },
  ];
}
