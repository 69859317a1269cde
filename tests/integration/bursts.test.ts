import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { fixedClock } from '#shared/clock';
import { IncidentStore } from '#shared/incident-store';
import { OwnSessionStore } from '#shared/own-session-store';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import { knownSources } from '#shared/known-sources';
import { memoryLog } from '#shared/logger';
import { intake, type IntakeDeps } from '#functions/intake/intake';
import { toEventBridge } from '#drill/envelope';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { fixture } from '../helpers';

/**
 * Duplicates and bursts: a root console session fires hundreds of events within a minute, in any
 * order, through concurrent intake invocations; EventBridge may deliver some twice. Exactly one
 * execution starts per account.
 */
const sfnMock = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
const MACHINE = 'arn:aws:states:us-east-1:999988887777:stateMachine:root-responder-test';

function setup() {
  const started = new Set<string>();
  sfnMock.reset();
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => {
    if (started.has(input.name)) throw new ExecutionAlreadyExists({ message: 'exists', $metadata: {} });
    started.add(input.name);
    return { executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:${input.name}`, startDate: new Date() };
  });
  // The executions intake started run (an open incident's marker is checked with DescribeExecution).
  sfnMock.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    if (!started.has(input.executionArn.split(':').pop()!)) throw new ExecutionDoesNotExist({ message: 'no', $metadata: {} });
    return { executionArn: input.executionArn, status: 'RUNNING' };
  });
  const ddb = new SimulatedDynamoDb();
  const store = new IncidentStore(ddb as never, 'incidents');
  const deps: IntakeDeps = {
    store,
    ownSessions: new OwnSessionStore(ddb as never, 'incidents'),
    pipeline: new PipelineHealthStore(ddb as never, 'incidents'),
    sfn: new SFNClient({ region: 'us-east-1' }),
    sns: new SNSClient({ region: 'us-east-1' }),
    clock: fixedClock('2024-03-04T10:30:00Z'),
    log: memoryLog(),
    config: {
      stateMachineArn: MACHINE,
      alertTopicArn: 'arn:aws:sns:us-east-1:999988887777:alerts',
      knownSources: knownSources([]),
      settings: { approvalWaitSeconds: 3600, maxReminders: 3 },
    },
  };
  return { deps, store, started };
}

const session = fixture('written/root_console_session_createuser_sessioncredentialfromconsole__written.json');
const NAMES = ['CreateUser', 'AttachUserPolicy', 'ListBuckets', 'RunInstances', 'PutBucketPolicy', 'DescribeInstances', 'CreateAccessKey'];

function burst(accountId: string, n: number): Record<string, unknown>[] {
  const base = Date.parse('2024-03-04T10:05:00Z');
  return Array.from({ length: n }, (_, i) =>
    toEventBridge({
      ...session,
      eventID: `${accountId}-${i}`,
      eventName: NAMES[i % NAMES.length],
      eventTime: new Date(base + Math.floor((i * 60_000) / n)).toISOString(),
      recipientAccountId: accountId,
      userIdentity: { ...(session['userIdentity'] as object), accountId, arn: `arn:aws:iam::${accountId}:root` },
    }),
  );
}

async function deliver(events: Record<string, unknown>[], deps: IntakeDeps, concurrency: number) {
  const outcomes: string[] = [];
  for (let i = 0; i < events.length; i += concurrency) {
    const batch = await Promise.all(events.slice(i, i + concurrency).map((e) => intake(e, deps)));
    outcomes.push(...batch.map((b) => b.outcome));
  }
  return outcomes;
}

describe('duplicates and bursts', () => {
  it('1,000 root events of one session in one minute, shuffled, 20 at a time, some delivered twice: one execution', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (seed) => {
        const { deps, store, started } = setup();
        const events = burst('111122223333', 1000);
        const shuffled = fc.sample(fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), {
          seed,
          numRuns: 1,
        })[0]!;
        const redelivered = [...shuffled, ...shuffled.slice(0, 50)];
        const outcomes = await deliver(redelivered, deps, 20);
        expect(started.size).toBe(1);
        expect(outcomes.filter((o) => o === 'opened')).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'attached')).toHaveLength(1049);
        // At most one DescribeExecution per event that found the incident open (and none before its execution started).
        expect(sfnMock.commandCalls(DescribeExecutionCommand).length).toBeLessThanOrEqual(1049);
        const open = await store.openIncident('111122223333');
        expect((await store.events(open!.incidentId)).length).toBe(1000);
      }),
      { numRuns: 3 },
    );
  }, 60_000);

  it('bursts from two accounts at once: two executions', async () => {
    const { deps, started } = setup();
    const events = [...burst('111122223333', 200), ...burst('444455556666', 200)].sort(() => 0.5 - Math.random());
    await deliver(events, deps, 25);
    expect([...started].map((name) => name.split('-')[0]).sort()).toEqual(['111122223333', '444455556666']);
  });
});
