import { AccountClient } from '@aws-sdk/client-account';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { EC2Client } from '@aws-sdk/client-ec2';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RAMClient } from '@aws-sdk/client-ram';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { IAMClient } from '@aws-sdk/client-iam';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { STSClient } from '@aws-sdk/client-sts';
import type { TargetClients } from '#shared/clients';

/**
 * TargetClients made of the SDK's real clients, for tests that mock them with aws-sdk-client-mock
 * (`mockClient(IAMClient)` mocks every instance) and throw the SDK's own exception classes. One
 * client per region, so a test can also mock one region's client alone (`mockClient(clients.cloudtrail('eu-west-1'))`).
 */
export function sdkTargetClients(): Omit<TargetClients, 'cloudtrail'> & { cloudtrail(region: string): CloudTrailClient } {
  const cloudtrail = new Map<string, CloudTrailClient>();
  return {
    iam: () => new IAMClient({ region: 'us-east-1' }),
    sts: (region) => new STSClient({ region }),
    cloudtrail: (region) => {
      if (!cloudtrail.has(region)) cloudtrail.set(region, new CloudTrailClient({ region }));
      return cloudtrail.get(region)!;
    },
    account: () => new AccountClient({ region: 'us-east-1' }),
    organizations: () => new OrganizationsClient({ region: 'us-east-1' }),
    guardduty: (region) => new GuardDutyClient({ region }),
    events: (region) => new EventBridgeClient({ region }),
    ec2: (region) => new EC2Client({ region }),
    s3: (region) => new S3Client({ region }),
    s3control: (region) => new S3ControlClient({ region }),
    rds: (region) => new RDSClient({ region }),
    kms: (region) => new KMSClient({ region }),
    lambda: (region) => new LambdaClient({ region }),
    ram: (region) => new RAMClient({ region }),
  };
}

/** What an SDK v3 exception carries besides its class: the response metadata. */
export const meta = (httpStatusCode = 400) => ({ message: 'from the test', $metadata: { httpStatusCode } });
