import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(__dirname, 'fixtures');
export const CLOUDTRAIL = join(FIXTURES, 'cloudtrail');

export function fixture<T = Record<string, unknown>>(relative: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, relative), 'utf8')) as T;
}

export interface ManifestEntry {
  file: string;
  category: string;
  eventName: string | null;
  userIdentityType: string | null;
  envelope: boolean | string | null;
}

export function manifest(): ManifestEntry[] {
  return fixture<ManifestEntry[]>('cloudtrail/manifest.json');
}

/** Wrap a CloudTrail record in the EventBridge envelope AWS delivers it in. */
export function envelope(record: Record<string, unknown>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const source = String(record['eventSource'] ?? '');
  const signIn = source === 'signin.amazonaws.com';
  const account = String(record['recipientAccountId'] ?? (record['userIdentity'] as Record<string, unknown> | undefined)?.['accountId'] ?? '111122223333');
  return {
    version: '0',
    id: `evt-${String(record['eventID'] ?? 'x')}`,
    'detail-type': signIn ? 'AWS Console Sign In via CloudTrail' : 'AWS API Call via CloudTrail',
    source: signIn ? 'aws.signin' : `aws.${source.split('.')[0] ?? 'unknown'}`,
    account: /^\d{12}$/.test(account) ? account : '111122223333',
    time: String(record['eventTime'] ?? '2024-01-01T00:00:00Z'),
    region: String(record['awsRegion'] ?? 'us-east-1'),
    resources: [],
    detail: record,
    ...overrides,
  };
}
