import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { AlertDigestStore } from '#shared/alert-digest-store';
import { ApprovalStore, newApprovalId } from '#shared/approval-store';
import { fixedClock } from '#shared/clock';
import { memoryLog } from '#shared/logger';
import { currentCode, enroll } from '#shared/responders';
import { decide } from '#functions/approvals/approvals';
import { handleApprovalRequest } from '#functions/approvals/http';

/**
 * The single-use and race cases against a real DynamoDB-protocol server (dynalite on 127.0.0.1):
 * a mocked client cannot show what a conditional write does when two requests meet.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { createTableMs: number }) => {
  listen(port: number, host: string, cb: () => void): void;
  close(cb?: () => void): void;
  address(): { port: number };
};

const sfnMock = mockClient(SFNClient);
const server = dynalite({ createTableMs: 0 });
let approvals: ApprovalStore;
let digests: AlertDigestStore;
const clock = fixedClock('2024-03-04T10:00:00Z');
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAXsecret-task-token-value';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${server.address().port}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await client.send(
    new CreateTableCommand({
      TableName: 'approvals',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  approvals = new ApprovalStore(DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), 'approvals');
  // The digest counters share the table layout (pk, sk): the same table serves here.
  digests = new AlertDigestStore(DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), 'approvals');
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(SendTaskSuccessCommand).resolves({});
  clock.set('2024-03-04T10:00:00Z');
});

async function approval(required = 1): Promise<string> {
  const id = newApprovalId();
  await approvals.create(id, {
    incidentId: 'inc',
    accountId: '111122223333',
    taskId: 't',
    taskKind: 'console',
    title: 'T',
    token: TOKEN,
    createdAt: '2024-03-04T10:00:00Z',
    expiresAt: '2024-03-04T11:00:00Z',
    requiredApprovals: required,
  });
  return id;
}

describe('approvals on a DynamoDB-protocol server', () => {
  it('ten decisions at once: exactly one wins, the workflow hears once', async () => {
    const id = await approval();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        decide({ id, outcome: 'approved', decidedBy: `r${i}@example.com`, via: 'test' }, { approvals, sfn: new SFNClient({}), clock }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(new Set(results.filter((r) => r.status === 'rejected').map((r) => (r.reason as Error).name))).toEqual(
      new Set(['ApprovalAlreadyDecidedError']),
    );
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect((await approvals.get(id))!.status).toBe('approved');
  });

  it('two-person approvals at once from two responders: both count, the workflow hears once', async () => {
    const id = await approval(2);
    await Promise.all([
      decide({ id, outcome: 'approved', decidedBy: 'alice@example.com', via: 'test' }, { approvals, sfn: new SFNClient({}), clock }),
      decide({ id, outcome: 'approved', decidedBy: 'bob@example.com', via: 'test' }, { approvals, sfn: new SFNClient({}), clock }),
    ]);
    const record = (await approvals.get(id))!;
    expect(record.status).toBe('approved');
    expect(record.approvals.map((v) => v.by).sort()).toEqual(['alice@example.com', 'bob@example.com']);
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  it('a TOTP step used by two requests at once is accepted once', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => approvals.useTotpStep('carol@example.com', 5000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('an expired approval the table still holds answers 410 (TTL deletes days late)', async () => {
    const id = await approval();
    clock.set('2024-03-04T12:00:00Z');
    const alice = enroll('alice@example.com', 'Alice').responder;
    const res = await handleApprovalRequest(
      {
        pathParameters: { id },
        requestContext: { http: { method: 'GET', sourceIp: '127.0.0.1' } },
        headers: {},
      } as unknown as APIGatewayProxyEventV2,
      {
        approvals,
        sfn: new SFNClient({}),
        responders: { find: () => Promise.resolve(alice) },
        origin: 'http://127.0.0.1',
        clock,
        totpClock: clock,
        log: memoryLog(),
      },
    );
    expect(res.statusCode).toBe(410);
    expect(await approvals.get(id)).toBeDefined();
    expect(currentCode(alice, clock.now())).toMatch(/^\d{6}$/);
  });
});

describe('alert digest counters against a DynamoDB-protocol server', () => {
  it('200 counts at once lose none; a digest reports them once; a quiet subject is dropped only if nothing came since', async () => {
    const at = new Date('2024-03-04T10:00:00Z');
    const names = ['CreateUser', 'ListBuckets', 'AttachUserPolicy', 'DescribeInstances'];
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        digests.count({
          subject: 'inc-1',
          incidentId: 'inc-1',
          accountId: '111122223333',
          title: 'incident inc-1',
          eventName: names[i % 4]!,
          readOnly: i % 2 === 1,
          at,
        }),
      ),
    );
    const [item] = await digests.all();
    expect(item).toMatchObject({ subject: 'inc-1', total: 200, readOnly: 100, sentTotal: 0, firstAt: at.toISOString() });
    expect(item!.counts).toEqual({ CreateUser: 50, ListBuckets: 50, AttachUserPolicy: 50, DescribeInstances: 50 });
    await digests.markSent(item!, at);
    const [sent] = await digests.all();
    expect(sent).toMatchObject({ sentTotal: 200, sentReadOnly: 100, sent: item!.counts });
    await digests.count({ subject: 'inc-1', accountId: '111122223333', title: 't', eventName: 'CreateUser', readOnly: false, at });
    expect(await digests.forget(sent!)).toBe(false); // one more event came since the read
    const [latest] = await digests.all();
    await digests.markSent(latest!, at);
    expect(await digests.forget((await digests.all())[0]!)).toBe(true);
    expect(await digests.all()).toEqual([]);
  });

  it('twenty intakes claiming the same refused-event alert: one wins', async () => {
    const window = new Date('2024-03-04T10:00:00Z');
    const claims = await Promise.all(Array.from({ length: 20 }, () => digests.claimAlert('REFUSED#x#1#2', window, 900)));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });
});
