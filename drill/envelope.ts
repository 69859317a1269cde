import { type JsonObject, safeText, str } from '#shared/cloudtrail';

/** Wrap a CloudTrail record in the EventBridge envelope AWS delivers it in (drill and tests). */
export function toEventBridge(record: JsonObject, overrides: JsonObject = {}): JsonObject {
  const source = str(record['eventSource']) ?? '';
  const signIn = source === 'signin.amazonaws.com';
  const identity = (record['userIdentity'] && typeof record['userIdentity'] === 'object' ? record['userIdentity'] : {}) as JsonObject;
  const account = str(record['recipientAccountId']) ?? str(identity['accountId']) ?? '111122223333';
  return {
    version: '0',
    id: `evt-${safeText(record['eventID'] ?? 'x', 40)}-${safeText(record['eventTime'] ?? '', 24)}`.slice(0, 64),
    'detail-type': signIn ? 'AWS Console Sign In via CloudTrail' : 'AWS API Call via CloudTrail',
    source: signIn ? 'aws.signin' : `aws.${source.split('.')[0] || 'unknown'}`,
    account: /^\d{12}$/.test(account) ? account : '111122223333',
    time: str(record['eventTime']) ?? '2024-01-01T00:00:00Z',
    region: str(record['awsRegion']) ?? 'us-east-1',
    resources: [],
    detail: record,
    ...overrides,
  };
}

/** The pipeline canary as EventBridge delivers it from an account's schedule (drill and tests). */
export function canaryEvent(accountId: string, region: string, at: Date): JsonObject {
  return {
    version: '0',
    id: `canary-${accountId}-${region}-${at.getTime()}`,
    'detail-type': 'Root responder canary',
    source: 'root-responder.canary',
    account: accountId,
    time: at.toISOString().replace(/\.\d+Z$/, 'Z'),
    region,
    resources: [],
    detail: { canary: 'root-responder' },
  };
}
