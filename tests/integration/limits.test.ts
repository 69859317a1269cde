import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '#shared/clock';
import { IncidentStore } from '#shared/incident-store';
import { OwnSessionStore } from '#shared/own-session-store';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import { knownSources } from '#shared/known-sources';
import { memoryLog } from '#shared/logger';
import { intake, type IntakeDeps } from '#functions/intake/intake';
import { runDrill } from '#drill/drill';
import { toEventBridge } from '#drill/envelope';
import { listScenarios } from '#drill/scenario';
import { DYNAMODB_MAX_ITEM_BYTES, itemSize, SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { SimulatedSns } from '#drill/simulated-sns';
import { fixture } from '../helpers';

/**
 * Every bundled scenario, with every approval given and with none (reminders and escalations),
 * against the simulated SNS and DynamoDB, which refuse what AWS refuses (subject and message
 * limits of Publish, the 400 KB item limit): no notification and no write may be refused.
 */
describe('AWS limits hold in every bundled scenario', () => {
  const refused: { service: string; scenario: string; approve: string; error: string; detail: string }[] = [];
  const subjects = new Set<string>();
  let published = 0;
  let context = { scenario: '', approve: '' };

  beforeAll(async () => {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the original is called below with sendSns.call(this, ...)
    const sendSns = SimulatedSns.prototype.send;
    jest.spyOn(SimulatedSns.prototype, 'send').mockImplementation(async function (this: SimulatedSns, command: unknown) {
      const input = (command as { input: { Subject?: string } }).input;
      try {
        const out = await sendSns.call(this, command);
        published += 1;
        subjects.add(input.Subject ?? '');
        return out;
      } catch (error) {
        refused.push({
          service: 'sns',
          ...context,
          error: `${(error as Error).name}: ${(error as Error).message}`,
          detail: JSON.stringify(input.Subject),
        });
        throw error;
      }
    });
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the original is called below with sendDdb.call(this, ...)
    const sendDdb = SimulatedDynamoDb.prototype.send;
    jest.spyOn(SimulatedDynamoDb.prototype, 'send').mockImplementation(async function (this: SimulatedDynamoDb, command: unknown) {
      try {
        return await sendDdb.call(this, command);
      } catch (error) {
        if ((error as Error).name === 'ValidationException')
          refused.push({
            service: 'dynamodb',
            ...context,
            error: `${(error as Error).name}: ${(error as Error).message}`,
            detail: (command as object).constructor.name,
          });
        throw error;
      }
    });
    for (const { name } of listScenarios()) {
      for (const approve of ['all', 'none'] as const) {
        context = { scenario: name, approve };
        await runDrill({ scenario: name, approve, out: mkdtempSync(join(tmpdir(), 'limits-')) });
      }
    }
  }, 600_000); // every scenario twice: 30 s idle, 167 s beside six busy loops; a guard against a hang only

  afterAll(() => {
    jest.restoreAllMocks();
    if (process.env['LIMITS_DEBUG']) writeFileSync('/tmp/limits-subjects.txt', [...subjects].join('\n'));
  });

  it('refuses no Publish and no write', () => {
    expect(published).toBeGreaterThan(0);
    expect(refused).toEqual([]);
  });

  it('publishes only subjects SNS accepts, each incident id kept whole', () => {
    for (const subject of subjects) {
      expect(subject).toMatch(/^[\x21-\x7e][\x20-\x7e]{0,99}$/);
      // Reminders and escalations end with the incident id, even when the task title was cut.
      if (/^\[root-responder\] (Reminder|OVERDUE): /.test(subject)) expect(subject).toMatch(/ \(\d{12}-\d{8}T\d{6}Z-[0-9a-f]{10}\)$/);
    }
  });
});

/**
 * The incidents table keeps each attached event as its own item (INCIDENT#id / EVENT#key), so a
 * burst adds items and never grows one: the largest item after 1,000 events is the largest after 10.
 */
describe('a burst of root events grows no item toward the 400 KB limit', () => {
  const session = fixture('written/root_console_session_createuser_sessioncredentialfromconsole__written.json');
  const accountId = '111122223333';

  async function largestItemAfter(n: number): Promise<{ largest: number; items: number }> {
    const sfn = mockClient(SFNClient);
    const sns = mockClient(SNSClient);
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:aws:states:us-east-1:999988887777:execution:m:x', startDate: new Date() });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    sns.on(PublishCommand).resolves({ MessageId: 'm' });
    const ddb = new SimulatedDynamoDb();
    const deps: IntakeDeps = {
      store: new IncidentStore(ddb as never, 'incidents'),
      ownSessions: new OwnSessionStore(ddb as never, 'incidents'),
      pipeline: new PipelineHealthStore(ddb as never, 'incidents'),
      sfn: new SFNClient({ region: 'us-east-1' }),
      sns: new SNSClient({ region: 'us-east-1' }),
      clock: fixedClock('2024-03-04T10:30:00Z'),
      log: memoryLog(),
      config: {
        stateMachineArn: 'arn:aws:states:us-east-1:999988887777:stateMachine:m',
        alertTopicArn: 'arn:aws:sns:us-east-1:999988887777:alerts',
        knownSources: knownSources([]),
        settings: { approvalWaitSeconds: 3600, maxReminders: 3 },
      },
    };
    const base = Date.parse('2024-03-04T10:05:00Z');
    for (let i = 0; i < n; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, n - i) }, (_, j) =>
          intake(
            toEventBridge({
              ...session,
              eventID: `${accountId}-${i + j}`,
              eventName: ['CreateUser', 'AttachUserPolicy', 'RunInstances'][(i + j) % 3],
              eventTime: new Date(base + (i + j) * 50).toISOString(),
              recipientAccountId: accountId,
              userIdentity: { ...(session['userIdentity'] as object), accountId, arn: `arn:aws:iam::${accountId}:root` },
            }),
            deps,
          ),
        ),
      );
    }
    sfn.restore();
    sns.restore();
    const items = ddb.items('incidents');
    return { largest: Math.max(...items.map(itemSize)), items: items.length };
  }

  it('1,000 events: one item each, the largest no bigger than after 10', async () => {
    const small = await largestItemAfter(10);
    const burst = await largestItemAfter(1000);
    expect(burst.items).toBe(small.items + 990);
    expect(burst.largest).toBe(small.largest);
    expect(burst.largest).toBeLessThan(DYNAMODB_MAX_ITEM_BYTES / 100);
  }, 60_000);
});
