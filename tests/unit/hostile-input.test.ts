import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { AccountNotFoundException, DescribeAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { AlertDigestStore } from '#shared/alert-digest-store';
import { ApprovalStore, newApprovalId } from '#shared/approval-store';
import { extractRecords } from '#shared/cloudtrail';
import { fixedClock } from '#shared/clock';
import { InvalidEventError } from '#shared/errors';
import { IncidentStore } from '#shared/incident-store';
import { OwnSessionStore } from '#shared/own-session-store';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import { knownSources } from '#shared/known-sources';
import { memoryLog } from '#shared/logger';
import { OrganizationMembership } from '#shared/organization-membership';
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
  // The open incident's execution is still running: later events attach to it.
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
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
          expect(['opened', 'attached', 'benign', 'ignored', 'refused']).toContain(result.outcome);
          const rootTyped =
            asText((mutated['userIdentity'] as Record<string, unknown> | undefined)?.['type'] ?? '').toLowerCase() === 'root';
          if (result.outcome === 'opened' || result.outcome === 'refused') expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
          if (result.outcome === 'refused') {
            // Refused only when the envelope (set by EventBridge) and the record name different accounts: alerted, nothing started.
            expect(wrap).toBe(true);
            expect(result).toMatchObject({ reason: 'account-mismatch', alerted: true });
            expect(result.accounts[0]).toBe((input as { account: string }).account);
            expect(result.accounts[1]).not.toBe(result.accounts[0]);
            expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
          }
          // Fails open: a root-typed event that would start an incident always alerts (opened, or refused and alerted).
          if (rootTyped && t.startsIncident) expect(['opened', 'refused']).toContain(result.outcome);
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

/**
 * Intake trust: what someone allowed to put events on the responder's bus (the whole organization,
 * through the bus policy) can send. Sources starting "aws." are AWS's alone; the envelope's account is
 * EventBridge's; the organization is Organizations'. Nothing else is believed.
 */
describe('hostile input: forged and foreign events', () => {
  const ddbOf = (d: ReturnType<typeof deps>['deps']) => (d.store as unknown as { ddb: SimulatedDynamoDb }).ddb;
  const session = () => fixture('written/root_console_session_createuser_sessioncredentialfromconsole__written.json');
  const accountId = fc.stringMatching(/^\d{12}$/);
  const withAccount = (record: Record<string, unknown>, account: string) => ({
    ...record,
    recipientAccountId: account,
    userIdentity: { ...(record['userIdentity'] as object), accountId: account, arn: `arn:aws:iam::${account}:root` },
  });
  const digestStore = (ddb: SimulatedDynamoDb) => new AlertDigestStore(ddb as never, 'incidents');

  it("a root record under any source that is not AWS's is refused and alerted: nothing started, stored or deleted", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.constantFrom('my.app', 'aws', 'AWS.signin', ' aws.signin', 'root-responder.canary', 'awssignin', 'amazon.aws.signin'),
        ),
        accountId,
        accountId,
        async (source, sender, named) => {
          fc.pre(!source.startsWith('aws.'));
          const { deps: d } = deps();
          const forged = { ...toEventBridge(withAccount(session(), named)), source, account: sender };
          const result = await intake(forged, d);
          expect(result).toEqual({ outcome: 'refused', reason: 'not-an-aws-source', accounts: [sender, named], alerted: true });
          expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
          expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
          expect(snsMock.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain(`account ${sender} put it there`);
          expect(ddbOf(d).items('incidents')).toEqual([]);
        },
      ),
      { numRuns: 150, seed: 15 },
    );
  });

  it('a GuardDuty root finding under a custom source is refused too', async () => {
    const { deps: d } = deps();
    const finding = { ...fixture('written/guardduty_root_credential_usage_finding__written.json'), source: 'security.tools' };
    expect(await intake(finding, d)).toMatchObject({ outcome: 'refused', reason: 'not-an-aws-source' });
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  it('an envelope and a record naming different accounts: one email naming both, no incident or execution in either', async () => {
    await fc.assert(
      fc.asyncProperty(
        accountId,
        accountId,
        fc.constantFrom('recipientAccountId', 'userIdentity.accountId', 'both'),
        async (a, b, field) => {
          fc.pre(a !== b);
          const { deps: d } = deps();
          const record = withAccount(session(), a);
          if (field !== 'userIdentity.accountId') record.recipientAccountId = b;
          if (field !== 'recipientAccountId') record.userIdentity = { ...record.userIdentity, accountId: b };
          const result = await intake(toEventBridge(record, { account: a }), d);
          expect(result).toEqual({ outcome: 'refused', reason: 'account-mismatch', accounts: [a, b], alerted: true });
          expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
          expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
          const alert = snsMock.commandCalls(PublishCommand)[0]!.args[0].input;
          expect(alert.Subject).toBe(`[root-responder] REFUSED: event from account ${a} names account ${b}`);
          expect(alert.Message).toContain(`from account ${a}, but the record inside names account ${b}`);
          expect(await d.store.openIncident(a)).toBeUndefined();
          expect(await d.store.openIncident(b)).toBeUndefined();
        },
      ),
      { numRuns: 100, seed: 1515 },
    );
  });

  it('a mismatched event while the account has an incident open is not attached to it', async () => {
    const { deps: d } = deps();
    const opened = await intake(toEventBridge(withAccount(session(), '111122223333')), d);
    expect(opened.outcome).toBe('opened');
    const forged = { ...withAccount(session(), '111122223333'), eventID: 'forged-1', recipientAccountId: '999999999999' };
    expect(await intake(toEventBridge(forged, { account: '111122223333' }), d)).toMatchObject({ outcome: 'refused' });
    expect((await d.store.events((opened as { incidentId: string }).incidentId)).map((e) => e.eventId)).toEqual([session()['eventID']]);
  });

  it('200 mismatched events at once: one email, the rest counted for the digest', async () => {
    const { deps: d } = deps();
    const digests = digestStore(ddbOf(d));
    const withDigests = { ...d, digests };
    const events = Array.from({ length: 200 }, (_, i) =>
      toEventBridge({ ...withAccount(session(), '444455556666'), eventID: `m-${i}` }, { account: '111122223333' }),
    );
    const results = await Promise.all(events.map((e) => intake(e, withDigests)));
    expect(results.filter((r) => r.outcome === 'refused' && r.alerted)).toHaveLength(1);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    const [pending] = await digests.all();
    expect(pending).toMatchObject({
      subject: 'REFUSED#account-mismatch#111122223333#444455556666',
      total: 199,
      counts: { CreateUser: 199 },
    });
  });

  it('a refusal whose email failed is alerted again on the retry', async () => {
    const { deps: d } = deps();
    const withDigests = { ...d, digests: digestStore(ddbOf(d)) };
    snsMock
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error('denied'), { name: 'AuthorizationErrorException' }))
      .resolves({ MessageId: 'm' });
    const event = toEventBridge(withAccount(session(), '444455556666'), { account: '111122223333' });
    await expect(intake(event, withDigests)).rejects.toThrow();
    expect(await intake(event, withDigests)).toMatchObject({ outcome: 'refused', alerted: true });
  });

  describe('organization mode', () => {
    const orgs = mockClient(OrganizationsClient);
    const MEMBER = '111122223333';
    const OUTSIDER = '777788889999';
    beforeEach(() => {
      orgs.reset();
      orgs.on(DescribeAccountCommand, { AccountId: MEMBER }).resolves({ Account: { Id: MEMBER, Name: 'member' } });
      orgs
        .on(DescribeAccountCommand, { AccountId: OUTSIDER })
        .rejects(new AccountNotFoundException({ message: "You specified an account that doesn't exist.", $metadata: {} }));
    });
    afterAll(() => orgs.restore());
    const inOrganization = (d: ReturnType<typeof deps>['deps']) => ({
      ...d,
      membership: new OrganizationMembership(() => new OrganizationsClient({ region: 'us-east-1' })),
      config: { ...d.config, responderAccountId: '999988887777', organizationId: 'o-a1b2c3d4e5' },
    });

    it('a root event forwarded from an account outside the organization is refused and alerted', async () => {
      const { deps: d } = deps();
      const result = await intake(toEventBridge(withAccount(session(), OUTSIDER)), inOrganization(d));
      expect(result).toEqual({ outcome: 'refused', reason: 'outside-organization', accounts: [OUTSIDER], alerted: true });
      expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
      expect(snsMock.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain(`not a member of organization o-a1b2c3d4e5`);
      expect(ddbOf(d).items('incidents')).toEqual([]);
    });

    it("a member's root events open an incident; a burst asks Organizations once", async () => {
      const { deps: d } = deps();
      const org = inOrganization(d);
      const results = [];
      for (let i = 0; i < 20; i++) results.push(await intake(toEventBridge({ ...withAccount(session(), MEMBER), eventID: `e-${i}` }), org));
      expect(results.map((r) => r.outcome)).toEqual(['opened', ...Array<string>(19).fill('attached')]);
      expect(orgs.commandCalls(DescribeAccountCommand)).toHaveLength(1);
    });

    it('Organizations unreachable (access denied): the event is acted on and the gap logged (detection fails open)', async () => {
      orgs.on(DescribeAccountCommand, { AccountId: MEMBER }).rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
      const { deps: d, log } = deps();
      expect(await intake(toEventBridge(withAccount(session(), MEMBER)), inOrganization(d))).toMatchObject({ outcome: 'opened' });
      expect(log.lines.some((l) => l.level === 'warn' && /membership not checked/.test(l.message))).toBe(true);
    });

    it("GuardDuty findings the responder's account administers name the member: acted on for the member", async () => {
      const { deps: d } = deps();
      const finding = fixture('written/guardduty_root_credential_usage_finding__written.json');
      const asAdmin = { ...finding, account: '999988887777' };
      const opened = await intake(asAdmin, inOrganization(d));
      expect(opened.outcome).toBe('opened');
      expect((opened as { incidentId: string }).incidentId).toMatch(/^111122223333-/);
      const fromElsewhere = { ...finding, id: 'other', account: '444455556666', detail: { ...(finding['detail'] as object), id: 'other' } };
      expect(await intake(fromElsewhere, inOrganization(d))).toMatchObject({ outcome: 'refused', reason: 'account-mismatch' });
    });
  });
});
