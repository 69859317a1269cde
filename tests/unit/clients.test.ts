import { IAMClient } from '@aws-sdk/client-iam';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { LocalClients, TargetClients } from '#shared/clients';
import { account } from '#shared/clients/account';
import { cloudtrail } from '#shared/clients/cloudtrail';
import { documentClient } from '#shared/clients/dynamodb';
import { events } from '#shared/clients/events';
import { guardduty } from '#shared/clients/guardduty';
import { iam } from '#shared/clients/iam';
import { organizations } from '#shared/clients/organizations';
import { objectReader, objectWriter, s3Client } from '#shared/clients/s3';
import { respondersDirectory } from '#shared/clients/secrets-manager';
import { sfnClient } from '#shared/clients/sfn';
import { snsClient } from '#shared/clients/sns';
import { sts } from '#shared/clients/sts';
import { targetClients, UndeclaredServiceError } from '#shared/clients/target';
import { inLocalContext } from '#drill/drill';

/**
 * The client factories, one module per service: a handler names the target-account services its step
 * calls, gets those and no other, and the drill's local context reaches every factory.
 */
const SERVICES = ['iam', 'sts', 'cloudtrail', 'account', 'organizations', 'guardduty', 'events'] as const;
const SESSION = { accessKeyId: 'ASIAROOTSESSION00001', secretAccessKey: 'secret', sessionToken: 'token' };

/** Simulated target clients that say which service, target and arguments they were asked for. */
function recordingTarget(asked: unknown[]): LocalClients['target'] {
  return (target) => {
    const client =
      (service: string) =>
      (...args: unknown[]) => (asked.push({ service, target, args }), { send: () => Promise.resolve({ service }) });
    return Object.fromEntries(SERVICES.map((s) => [s, client(s)])) as unknown as TargetClients;
  };
}

describe('targetClients: only the services the handler names', () => {
  it('builds the named services and refuses the others with UndeclaredServiceError', () => {
    const clients = targetClients({ accountId: '111122223333' }, { iam, sts });
    expect(clients.iam()).toBeInstanceOf(IAMClient);
    expect(clients.sts('eu-west-1')).toBeInstanceOf(STSClient);
    for (const service of ['cloudtrail', 'account', 'organizations', 'guardduty', 'events'] as const) {
      const call = () => (clients[service] as (region: string) => unknown)('us-east-1');
      expect(call).toThrow(UndeclaredServiceError);
      expect(call).toThrow(`did not name ${service}`);
    }
  });

  it('every service module builds its own client', () => {
    const clients = targetClients({ accountId: '111122223333' }, { iam, sts, cloudtrail, account, organizations, guardduty, events });
    const names = SERVICES.map((s) => (clients[s] as (region: string) => object)('eu-west-1').constructor.name);
    expect(names).toEqual([
      'IAMClient',
      'STSClient',
      'CloudTrailClient',
      'AccountClient',
      'OrganizationsClient',
      'GuardDutyClient',
      'EventBridgeClient',
    ]);
  });

  it('one client per service, account, role and region for a cold start; a root session gets its own', async () => {
    const a = targetClients({ accountId: '111122223333' }, { iam, cloudtrail });
    const again = targetClients({ accountId: '111122223333' }, { iam, cloudtrail });
    const viaRole = targetClients(
      { accountId: '111122223333', roleArn: 'arn:aws:iam::111122223333:role/root-responder-read' },
      { iam, cloudtrail },
    );
    expect(again.iam()).toBe(a.iam());
    expect(again.cloudtrail('eu-west-1')).toBe(a.cloudtrail('eu-west-1'));
    expect(a.cloudtrail('eu-west-1')).not.toBe(a.cloudtrail('us-east-1'));
    expect(viaRole.iam()).not.toBe(a.iam());
    const session = a.iam(SESSION) as IAMClient;
    expect(session).not.toBe(a.iam(SESSION));
    expect(await session.config.credentials()).toMatchObject(SESSION);
    expect(await session.config.region()).toBe('us-east-1');
  });

  it('keeps the explicit retry settings; IAM from us-east-1, CloudTrail in the region asked for', async () => {
    const clients = targetClients({ accountId: '111122223333' }, { iam, cloudtrail });
    const iamClient = clients.iam() as IAMClient;
    const trail = clients.cloudtrail('ap-southeast-2') as CloudTrailClient;
    expect(await iamClient.config.maxAttempts()).toBe(4);
    expect(await iamClient.config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
    expect(await iamClient.config.region()).toBe('us-east-1');
    expect(await trail.config.region()).toBe('ap-southeast-2');
  });

  it("in a drill: the named services reach the drill's simulated clients, the others still refuse", async () => {
    const asked: unknown[] = [];
    const clients = inLocalContext({ target: recordingTarget(asked) }, () =>
      targetClients({ accountId: '444455556666', roleArn: 'arn:aws:iam::444455556666:role/r' }, { iam, sts }),
    );
    expect(await clients.sts('eu-west-1').send({} as never)).toEqual({ service: 'sts' });
    expect(await clients.iam(SESSION).send({} as never)).toEqual({ service: 'iam' });
    expect(asked).toEqual([
      { service: 'sts', target: { accountId: '444455556666', roleArn: 'arn:aws:iam::444455556666:role/r' }, args: ['eu-west-1'] },
      { service: 'iam', target: { accountId: '444455556666', roleArn: 'arn:aws:iam::444455556666:role/r' }, args: [SESSION] },
    ]);
    expect(() => clients.guardduty('eu-west-1')).toThrow(UndeclaredServiceError);
    expect(asked).toHaveLength(2);
  });
});

describe('the other factories: real clients once per cold start, the drill context wherever it is set', () => {
  it('outside a drill: SDK clients with the retry settings, one per region', async () => {
    expect(documentClient()).toBeInstanceOf(DynamoDBDocumentClient);
    expect(documentClient()).toBe(documentClient());
    expect(sfnClient()).toBeInstanceOf(SFNClient);
    expect(snsClient('eu-west-1')).toBeInstanceOf(SNSClient);
    expect(snsClient('eu-west-1')).not.toBe(snsClient('us-east-1'));
    expect(s3Client()).toBeInstanceOf(S3Client);
    expect(await sfnClient().config.maxAttempts()).toBe(4);
    expect(await sfnClient().config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
  });

  it("in a drill: each factory returns the context's simulated service", () => {
    const injected = {
      dynamodb: {},
      sfn: {},
      sns: {},
      s3: {},
      responders: { find: () => Promise.resolve(undefined) },
    } as unknown as LocalClients;
    const writer = { put: () => Promise.resolve({}) };
    const reader = { read: () => Promise.resolve(Buffer.from('')) };
    const context: LocalClients = { ...injected, objectWriter: () => writer as never, objectReader: () => reader };
    inLocalContext(context, () => {
      expect(documentClient()).toBe(context.dynamodb);
      expect(sfnClient()).toBe(context.sfn);
      expect(snsClient()).toBe(context.sns);
      expect(s3Client()).toBe(context.s3);
      expect(respondersDirectory('secret')).toBe(context.responders);
      expect(objectWriter('bucket', 'incidents/i/evidence')).toBe(writer);
      expect(objectReader('bucket', 'incidents/i/evidence')).toBe(reader);
    });
  });
});
