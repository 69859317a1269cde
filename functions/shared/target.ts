import type { Target } from './clients';
import type { RuntimeConfig } from './config';

/**
 * How the responder reaches an incident's account. Standalone, or the responder's own account:
 * its own role. Organization mode, a member account: the member's read role (deployed with the
 * organization issue), and AssumeRoot from the responder's own role for root credentials.
 */
export function targetFor(
  accountId: string,
  config: Pick<RuntimeConfig, 'MODE' | 'RESPONDER_ACCOUNT_ID' | 'MEMBER_READ_ROLE_NAME' | 'MEMBER_WRITE_ROLE_NAME'>,
  access: 'read' | 'write' = 'read',
): { target: Target; member: boolean } {
  if (config.MODE === 'standalone' || accountId === config.RESPONDER_ACCOUNT_ID) return { target: { accountId }, member: false };
  const role = access === 'write' ? config.MEMBER_WRITE_ROLE_NAME : config.MEMBER_READ_ROLE_NAME;
  return { target: { accountId, roleArn: `arn:aws:iam::${accountId}:role/${role}` }, member: true };
}

/**
 * What a function that reaches member accounts through `targetFor` needs on its own role: assuming
 * the member role (the member's trust policy alone is not enough across accounts). infra/roles.cjs
 * scopes it to that role's name in every account.
 */
export const memberRolePermissions = ['sts:AssumeRole'] as const;
