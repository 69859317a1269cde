import { LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { GetRoleCommand, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import type { TargetClients } from '../clients';
import type { LimiterPool } from '../rate-limit';
import { errorCodeOf, identityType, isObject, obj, parseLookupEvent, str } from '../cloudtrail';
import { awsCall } from '../errors';
import { everyPage } from '../inventory';
import { defineRemediation, type RemediationMeta } from './types';

/**
 * A role trust policy root changed (UpdateAssumeRolePolicy), put back to the document it had before,
 * as CloudTrail recorded it: the last successful CreateRole or UpdateAssumeRolePolicy of that role by
 * a principal other than root, before root's first change (LookupEvents keeps 90 days, IAM's events
 * are in us-east-1). When CloudTrail holds no earlier document, nothing is changed: the task stays
 * open for a person, with the document root set.
 */
const LOOKBACK_DAYS = 90;
const MAX_PAGES = 10;

interface TrustChange {
  at: string;
  byRoot: boolean;
  document: string;
  event: string;
}

/** Stable JSON text of a policy document (keys sorted), or the text itself when it is not JSON. */
export function canonicalPolicy(text: string): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : isObject(v)
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort(v[k])]),
          )
        : v;
  try {
    return JSON.stringify(sort(JSON.parse(text)));
  } catch {
    return text;
  }
}

async function trustChanges(
  clients: TargetClients,
  limiters: LimiterPool,
  accountId: string,
  role: string,
  now: Date,
): Promise<TrustChange[]> {
  const changes: TrustChange[] = [];
  for (const [eventName, field] of [
    ['UpdateAssumeRolePolicy', 'policyDocument'],
    ['CreateRole', 'assumeRolePolicyDocument'],
  ] as const) {
    let pages = 0;
    const events = await everyPage(async (token) => {
      pages += 1;
      // IAM's events are in us-east-1: each page waits its turn under the account's 2 calls/s there.
      await limiters.for(`${accountId}:us-east-1`).take();
      const out = await awsCall('cloudtrail:LookupEvents', () =>
        clients.cloudtrail('us-east-1').send(
          new LookupEventsCommand({
            LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: eventName }],
            StartTime: new Date(now.getTime() - LOOKBACK_DAYS * 86_400_000),
            EndTime: now,
            MaxResults: 50,
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      return { items: out.Events, next: pages < MAX_PAGES ? out.NextToken : undefined };
    });
    for (const e of events) {
      const record = parseLookupEvent(e);
      if (!record || errorCodeOf(record)) continue;
      const params = obj(record['requestParameters']);
      const document = str(params?.[field]);
      if (str(params?.['roleName']) !== role || !document) continue;
      changes.push({
        at: str(record['eventTime']) ?? '',
        byRoot: identityType(record) === 'Root',
        document,
        event: str(record['eventID']) ?? eventName,
      });
    }
  }
  return changes.sort((a, b) => a.at.localeCompare(b.at));
}

/** The document the role had before root's first change, when CloudTrail recorded it. */
async function previousDocument(ctx: { clients: TargetClients; limiters: LimiterPool; accountId: string }, role: string, now: Date) {
  const changes = await trustChanges(ctx.clients, ctx.limiters, ctx.accountId, role, now);
  const firstRoot = changes.findIndex((c) => c.byRoot);
  if (firstRoot < 0) return { previous: undefined, rootChange: undefined };
  const previous = changes
    .slice(0, firstRoot)
    .reverse()
    .find((c) => !c.byRoot);
  return { previous, rootChange: changes[firstRoot] };
}

async function currentDocument(clients: TargetClients, role: string): Promise<string> {
  const out = await awsCall('iam:GetRole', () => clients.iam().send(new GetRoleCommand({ RoleName: role })));
  // IAM returns the trust policy URL-encoded (RFC 3986), as every IAM policy document.
  return decodeURIComponent(out.Role?.AssumeRolePolicyDocument ?? '');
}

export const restoreTrustPolicyMeta: RemediationMeta<'restore-trust-policy'> = {
  action: 'restore-trust-policy',
  runsIn: 'target-account',
  permissions: {
    run: ['cloudtrail:LookupEvents', 'iam:GetRole', 'iam:UpdateAssumeRolePolicy'],
    verify: ['cloudtrail:LookupEvents', 'iam:GetRole'],
  },
  reversible: true,
  approvals: 1,
};

export const restoreTrustPolicy = /* @__PURE__ */ defineRemediation(restoreTrustPolicyMeta, {
  async run(ctx) {
    const { clients, target, clock } = ctx;
    const { previous, rootChange } = await previousDocument(ctx, target, clock.now());
    const current = await currentDocument(clients, target);
    if (!previous)
      return {
        status: 'skipped',
        detail: `CloudTrail (${LOOKBACK_DAYS} days) holds no trust policy of role ${target} from before root changed it${rootChange ? ` (${rootChange.event} at ${rootChange.at})` : ''}: nothing was changed. A person restores it by hand (aws iam update-assume-role-policy --role-name ${target} --policy-document file://trust.json). Its trust policy now: ${canonicalPolicy(current).slice(0, 1500)}`,
      };
    if (canonicalPolicy(current) === canonicalPolicy(previous.document))
      return { status: 'done', detail: `Role ${target} already has the trust policy it had before root's change (${previous.event}).` };
    await awsCall('iam:UpdateAssumeRolePolicy', () =>
      clients.iam().send(new UpdateAssumeRolePolicyCommand({ RoleName: target, PolicyDocument: previous.document })),
    );
    return {
      status: 'done',
      detail: `Restored the trust policy of role ${target} to the document CloudTrail recorded before root's change (${previous.event} at ${previous.at}).`,
      undo: [
        `aws iam update-assume-role-policy --role-name ${target} --policy-document '${canonicalPolicy(current).slice(0, 1500)}' (the document root set)`,
      ],
    };
  },
  async verify(ctx) {
    const { clients, target, clock } = ctx;
    const { previous } = await previousDocument(ctx, target, clock.now());
    if (!previous) return { verified: false, reason: `CloudTrail holds no earlier trust policy of role ${target} to compare with` };
    const current = await currentDocument(clients, target);
    return canonicalPolicy(current) === canonicalPolicy(previous.document)
      ? { verified: true, reason: `GetRole: role ${target} has the trust policy of ${previous.event} again` }
      : {
          verified: false,
          reason: `GetRole: the trust policy of role ${target} differs from the one before root's change (${previous.event})`,
        };
  },
  undoSteps: ({ target }) => [
    `aws iam update-assume-role-policy --role-name ${target} --policy-document <the document root set, in the evidence bundle>`,
  ],
});
