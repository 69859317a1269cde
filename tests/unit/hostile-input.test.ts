import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { ApprovalStore, newApprovalId } from '#shared/approval-store';
import { extractRecords } from '#shared/cloudtrail';
import { fixedClock } from '#shared/clock';
import { InvalidEventError } from '#shared/errors';
import { IncidentStore } from '#shared/incident-store';
import { OwnSessionStore } from '#shared/own-session-store';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import { knownSources } from '#shared/known-sources';
import { memoryLog } from '#shared/logger';
import { enroll } from '#shared/responders';
import { defaultTriageContext, triage } from '#shared/triage';
import { handleApprovalRequest } from '#functions/approvals/http';
import { intake } from '#functions/intake/intake';
import { toEventBridge } from '#drill/envelope';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { fixture, manifest } from '../helpers';
import { asText } from '#shared/text';

/**
 * Hostile input, generated: the real published events, mutated (fields removed, wrong types, huge
 * strings, unicode, deep nesting, forged identities, other accounts), and garbage that is not an
 * event at all. Nothing crashes; non-events start nothing and get InvalidEventError; nothing
 * secret reaches a log; the approval page never decides without a valid code.
 */
const sfnMock = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
const SECRET_KEY_ID = 'ASIASECRETSESSIONKEY';
const SESSION_TOKEN = 'FQoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789';

const records = manifest()
  .filter((e) => !['lookup_events_response', 'timeline'].includes(e.category))
  .flatMap((e) => extractRecords(fixture(`cloudtrail/${e.file}`), e.file).records.map((r) => r.record));

const anyValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
  fc.string({ minLength: 100_000, maxLength: 100_001 }),
);

function nest(depth: number): unknown {
  let v: unknown = 'deep';
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('delete' as const),
    field: fc.constantFrom(
      'eventName',
      'eventTime',
      'userIdentity',
      'eventSource',
      'eventID',
      'recipientAccountId',
      'awsRegion',
      'responseElements',
      'additionalEventData',
    ),
  }),
  fc.record({
    kind: fc.constant('set' as const),
    field: fc.constantFrom(
      'eventName',
      'eventTime',
      'userIdentity',
      'eventSource',
      'eventID',
      'sourceIPAddress',
      'readOnly',
      'errorCode',
      'requestParameters',
      'responseElements',
    ),
    value: anyValue,
  }),
  fc.record({
    kind: fc.constant('identity' as const),
    value: fc.record(
      {
        type: fc.constantFrom('Root', 'root', 'IAMUser', 'AssumedRole', 'AWSService', ''),
        accountId: fc.oneof(fc.constantFrom('123456789012', '999999999999'), fc.string()),
        accessKeyId: fc.constant(SECRET_KEY_ID),
        invokedBy: fc.constantFrom('signin.amazonaws.com', 'glue.amazonaws.com', 'AWS Internal', '<script>'),
      },
      { requiredKeys: ['type'] },
    ),
  }),
  fc.record({ kind: fc.constant('nest' as const), depth: fc.integer({ min: 10, max: 500 }) }),
);

function mutate(
  record: Record<string, unknown>,
  changes: { kind: string; field?: string; value?: unknown; depth?: number }[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...record, sessionToken: SESSION_TOKEN };
  for (const c of changes) {
    if (c.kind === 'delete') delete out[c.field!];
    if (c.kind === 'set') out[c.field!] = c.value;
    if (c.kind === 'identity') out['userIdentity'] = c.value;
    if (c.kind === 'nest') out['requestParameters'] = nest(c.depth!);
  }
  return out;
}

function deps() {
  sfnMock.reset();
  snsMock.reset();
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:aws:states:us-east-1:1:execution:m:n', startDate: new Date() });
  snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
  const log = memoryLog();
  const ddb = new SimulatedDynamoDb();
  return {
    log,
    deps: {
      store: new IncidentStore(ddb as never, 'incidents'),
      ownSessions: new OwnSessionStore(ddb as never, 'incidents'),
      pipeline: new PipelineHealthStore(ddb as never, 'incidents'),
      sfn: new SFNClient({ region: 'us-east-1' }),
      sns: new SNSClient({ region: 'us-east-1' }),
      clock: fixedClock('2024-03-04T10:30:00Z'),
      log,
      config: {
        stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:m',
        alertTopicArn: 'arn:aws:sns:us-east-1:1:a',
        knownSources: knownSources(['203.0.113.0/24']),
        settings: { approvalWaitSeconds: 60, maxReminders: 1 },
      },
    },
  };
}

describe('hostile input', () => {
  it('mutated real events: triage never throws, intake never crashes, root-typed ones still alert, no secret logged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...records),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (record, changes, wrap) => {
          const mutated = mutate(record, changes);
          const t = triage(mutated, defaultTriageContext(['203.0.113.0/24']));
          expect(['critical', 'high', 'medium', 'low', 'info']).toContain(t.severity);
          const { deps: d, log } = deps();
          const input = wrap ? toEventBridge(mutated) : mutated;
          if (!('eventName' in mutated) && !('userIdentity' in mutated)) {
            // Neither an operation nor an identity: not a CloudTrail record. Rejected (to the DLQ), nothing started.
            await expect(intake(input, d)).rejects.toBeInstanceOf(InvalidEventError);
            expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
            return;
          }
          const result = await intake(input, d);
          expect(['opened', 'attached', 'benign', 'ignored']).toContain(result.outcome);
          const rootTyped =
            asText((mutated['userIdentity'] as Record<string, unknown> | undefined)?.['type'] ?? '').toLowerCase() === 'root';
          if (result.outcome === 'opened') expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
          if (rootTyped && t.startsIncident) expect(result.outcome).toBe('opened');
          const logged = JSON.stringify(log.lines);
          expect(logged).not.toContain(SESSION_TOKEN);
          expect(logged).not.toContain(SECRET_KEY_ID);
          const alert = snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
          expect(alert).not.toContain(SESSION_TOKEN);
        },
      ),
      { numRuns: 300, seed: 20261129 },
    );
  }, 120_000);

  it('anything that is not an event: InvalidEventError, nothing started, nothing stored', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything(),
          fc.dictionary(fc.string(), fc.anything()),
          fc.record({
            'detail-type': fc.string(),
            source: fc.string(),
            detail: fc.dictionary(fc.constantFrom('foo', 'bar', 'type'), fc.string()),
          }),
        ),
        async (input) => {
          fc.pre(!(input && typeof input === 'object' && !Array.isArray(input) && ('eventName' in input || 'userIdentity' in input)));
          const { deps: d } = deps();
          await expect(intake(input, d)).rejects.toBeInstanceOf(InvalidEventError);
          expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it('random requests to the approval page never decide without a valid code, and never throw', async () => {
    const sfn = mockClient(SFNClient);
    const approvals = new ApprovalStore(new SimulatedDynamoDb() as never, 'approvals');
    const id = newApprovalId();
    await approvals.create(id, {
      incidentId: 'i',
      accountId: 'a',
      taskId: 't',
      taskKind: 'console',
      title: 'T',
      token: 'secret-token',
      createdAt: '2024-03-04T10:00:00Z',
      expiresAt: '2024-03-04T11:00:00Z',
    });
    const alice = enroll('alice@example.com', 'Alice').responder;
    const log = memoryLog();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
          id: fc.oneof(fc.constant(id), fc.string()),
          body: fc.oneof(fc.string(), fc.constant(`csrf=x&email=alice%40example.com&code=123456&decision=approve`)),
          origin: fc.oneof(fc.constant('https://ok.example'), fc.string()),
          cookie: fc.string(),
        }),
        async (r) => {
          const res = await handleApprovalRequest(
            {
              pathParameters: { id: r.id },
              requestContext: { http: { method: r.method, sourceIp: '1.2.3.4' } },
              headers: { origin: r.origin },
              body: r.body,
              cookies: [r.cookie],
            } as unknown as APIGatewayProxyEventV2,
            {
              approvals,
              sfn: new SFNClient({}),
              responders: { find: (e) => Promise.resolve(e === alice.email ? alice : undefined) },
              origin: 'https://ok.example',
              clock: fixedClock('2024-03-04T10:10:00Z'),
              totpClock: fixedClock('2024-03-04T10:10:00Z'),
              log,
            },
          );
          expect([200, 403, 404, 405, 409, 410]).toContain(res.statusCode);
          expect(sfn.calls()).toHaveLength(0);
          expect(String(res.body)).not.toContain('secret-token');
        },
      ),
      { numRuns: 200, seed: 11 },
    );
    expect(JSON.stringify(log.lines)).not.toContain('secret-token');
    sfn.restore();
  });
});
