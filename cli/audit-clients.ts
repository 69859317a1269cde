import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { account } from '#shared/clients/account';
import { cloudtrail } from '#shared/clients/cloudtrail';
import { events } from '#shared/clients/events';
import { guardduty } from '#shared/clients/guardduty';
import { iam } from '#shared/clients/iam';
import { organizations } from '#shared/clients/organizations';
import { sts } from '#shared/clients/sts';
import { targetClients } from '#shared/clients/target';
import type { AuditDeps } from './audit-command';

/** The audit's clients for a live account: the default credential chain (AWS_PROFILE, env, SSO...). */
export function liveAuditDeps(): AuditDeps {
  const RETRY = { maxAttempts: 4, retryMode: 'adaptive' } as const;
  const sns = new Map<string, SNSClient>();
  const scheduler = new Map<string, SchedulerClient>();
  let s3: S3Client | undefined;
  return {
    accountId: async () => (await new STSClient({ ...RETRY, region: 'us-east-1' }).send(new GetCallerIdentityCommand({}))).Account ?? '',
    clients: (region) => ({
      target: targetClients({ accountId: 'self' }, { iam, sts, cloudtrail, account, organizations, guardduty, events }),
      sns: (r) => sns.get(r) ?? sns.set(r, new SNSClient({ ...RETRY, region: r })).get(r)!,
      s3: () => (s3 ??= new S3Client({ ...RETRY, region })),
      scheduler: (r) => scheduler.get(r) ?? scheduler.set(r, new SchedulerClient({ ...RETRY, region: r })).get(r)!,
    }),
  };
}
