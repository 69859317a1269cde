import { ListRegionsCommand } from '@aws-sdk/client-account';
import { ListAccountsCommand } from '@aws-sdk/client-organizations';
import type { TargetClients } from './clients';
import { awsCall } from './errors';

/**
 * The listings more than one step reads: the organization's active accounts and an account's
 * enabled regions. Both APIs page; every caller gets every page.
 */

/** Every page of a NextToken-paged list call, concatenated (stopping once `maxItems` are in). */
export async function everyPage<T>(
  page: (token: string | undefined) => Promise<{ items: T[] | undefined; next: string | undefined }>,
  maxItems = Infinity,
): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const out = await page(token);
    items.push(...(out.items ?? []));
    token = out.next;
  } while (token && items.length < maxItems);
  return items;
}

export interface OrganizationAccount {
  id: string;
  name: string;
  joined?: Date;
}

/** The organization's active accounts (State; the retired Status where State is absent). */
export async function activeAccounts(responder: TargetClients, maxItems = Infinity): Promise<OrganizationAccount[]> {
  const accounts = await everyPage(async (token) => {
    const out = await awsCall('organizations:ListAccounts', () =>
      responder.organizations().send(new ListAccountsCommand({ ...(token ? { NextToken: token } : {}) })),
    );
    return { items: out.Accounts, next: out.NextToken };
  }, maxItems);
  return accounts
    .filter((a) => a.Id && (a.State ?? a.Status ?? 'ACTIVE') === 'ACTIVE')
    .map((a) => ({ id: a.Id!, name: a.Name ?? '', ...(a.JoinedTimestamp ? { joined: new Date(a.JoinedTimestamp) } : {}) }));
}

/** The regions enabled in the account the clients act in. */
export async function enabledRegions(clients: TargetClients): Promise<string[]> {
  const regions = await everyPage(async (token) => {
    const out = await awsCall('account:ListRegions', () =>
      clients.account().send(
        new ListRegionsCommand({
          RegionOptStatusContains: ['ENABLED', 'ENABLED_BY_DEFAULT'],
          MaxResults: 50,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    return { items: out.Regions, next: out.NextToken };
  });
  return regions.map((r) => r.RegionName ?? '').filter(Boolean);
}
