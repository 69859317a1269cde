import { AccountNotFoundException, DescribeAccountCommand, type OrganizationsClient } from '@aws-sdk/client-organizations';
import { isAwsError, isTransientAwsError, TransientAwsError } from './errors';

/**
 * Whether an account belongs to the organization the responder serves (organization mode): events
 * forwarded from any other account are refused. Asked of Organizations (DescribeAccount, served to
 * the management account and the delegated administrator), and kept for an hour per warm Lambda:
 * a burst of a thousand events asks once.
 */
export const organizationMembershipPermissions = ['organizations:DescribeAccount'] as const;

/** member: in the organization; outside: Organizations does not know it; unknown: the question could not be asked. */
export type Membership = { status: 'member' } | { status: 'outside' } | { status: 'unknown'; reason: string };

const KEEP_MS = 3_600_000;

export class OrganizationMembership {
  private readonly known = new Map<string, { status: 'member' | 'outside'; at: number }>();

  constructor(private readonly organizations: () => Pick<OrganizationsClient, 'send'>) {}

  async of(accountId: string, now: Date): Promise<Membership> {
    const cached = this.known.get(accountId);
    if (cached && now.getTime() - cached.at < KEEP_MS) return { status: cached.status };
    let status: 'member' | 'outside';
    try {
      const out = await this.organizations().send(new DescribeAccountCommand({ AccountId: accountId }));
      status = out.Account?.Id === accountId ? 'member' : 'outside';
    } catch (error) {
      if (isAwsError(error, AccountNotFoundException)) status = 'outside';
      else if (isTransientAwsError(error)) throw new TransientAwsError('organizations:DescribeAccount', { cause: error });
      // Access denied, Organizations not in use here, ...: the caller decides (detection fails open).
      else return { status: 'unknown', reason: (error as Error).name || 'error' };
    }
    this.known.set(accountId, { status, at: now.getTime() });
    return { status };
  }
}
