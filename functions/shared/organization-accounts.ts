import type { TargetClients } from './clients';
import type { ExposureContext } from './exposure';
import { activeAccounts } from './inventory';

/**
 * Who counts as foreign for an exposure finding. Organization mode: every account of the
 * organization is own (Organizations ListAccounts, every page, from the responder's management or
 * delegated-admin account), asked once per step invocation. Standalone: only the account itself.
 * When the organization cannot be asked (access denied, Organizations not in use), detection fails
 * open: every other account is foreign, and the findings say why.
 */
export const organizationAccountsPermissions = ['organizations:ListAccounts'] as const;

export async function exposureContext(accountId: string, responder: TargetClients | undefined): Promise<ExposureContext> {
  if (!responder) return { accountId };
  try {
    const accounts = await activeAccounts(responder);
    return { accountId, organizationAccounts: new Set(accounts.map((a) => a.id)) };
  } catch (error) {
    // Throttling and other transient failures: the ASL retries the step.
    if ((error as Error).name === 'TransientAwsError') throw error;
    return { accountId, organizationAccountsUnavailable: ((error as Error).message || (error as Error).name).slice(0, 200) };
  }
}
