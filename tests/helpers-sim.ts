import type { JsonObject } from '#shared/cloudtrail';
import type { SimAccount, SimWorld } from '#drill/simulated-aws';

/** A small simulated account; tests override what they need. */
export function simAccount(accountId: string, overrides: Partial<SimAccount> = {}): SimAccount {
  return {
    accountId,
    name: `account-${accountId}`,
    email: `root+${accountId}@example.com`,
    root: { accessKeys: [], signingCertificates: [], mfaDevices: [], password: true },
    alternateContacts: {},
    contactInformation: {
      FullName: 'Example Corp',
      AddressLine1: '1 Main St',
      City: 'Seattle',
      CountryCode: 'US',
      PhoneNumber: '+1-206-555-0100',
      PostalCode: '98101',
    },
    enabledRegions: ['us-east-1'],
    trails: [],
    detectors: {},
    iamUsers: [],
    events: {},
    ...overrides,
  };
}

export function world(accounts: SimAccount[], extra: Partial<SimWorld> = {}): SimWorld {
  return { accounts: Object.fromEntries(accounts.map((a) => [a.accountId, a])), responderAccountId: accounts[0]!.accountId, ...extra };
}

/** n root events in a region, one second apart, ending at `end`. */
export function rootEvents(n: number, region: string, end = Date.parse('2024-03-04T10:00:00Z'), accountId = '111122223333'): JsonObject[] {
  return Array.from({ length: n }, (_, i) => ({
    eventVersion: '1.08',
    eventID: `${region}-${i}`,
    eventTime: new Date(end - i * 1000).toISOString(),
    eventSource: 'ec2.amazonaws.com',
    eventName: i % 2 ? 'DescribeInstances' : 'RunInstances',
    awsRegion: region,
    readOnly: i % 2 === 1,
    sourceIPAddress: '198.51.100.7',
    userIdentity: { type: 'Root', accountId, arn: `arn:aws:iam::${accountId}:root`, principalId: accountId },
    recipientAccountId: accountId,
  }));
}
