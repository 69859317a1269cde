import { expect } from '@jest/globals';
import { DescribeExecutionCommand, ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '#shared/clock';
import { InvalidEventError, TransientAwsError } from '#shared/errors';
import { IncidentStore } from '#shared/incident-store';
import { OwnSessionStore } from '#shared/own-session-store';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import { knownSources } from '#shared/known-sources';
import { memoryLog } from '#shared/logger';
import type { ExecutionInput } from '#shared/contracts/execution-input';
import { intake, type IntakeDeps } from '#functions/intake/intake';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { envelope, fixture } from '../helpers';

const STATE_MACHINE = 'arn:aws:states:us-east-1:999988887777:stateMachine:root-compromise-response-test';
const TOPIC = 'arn:aws:sns:us-east-1:999988887777:root-responder-test-alerts';

const sfnMock = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);

let ddb: SimulatedDynamoDb;
let store: IncidentStore;
let ownSessions: OwnSessionStore;
let pipeline: PipelineHealthStore;
let deps: IntakeDeps;
let log: ReturnType<typeof memoryLog>;
const clock = fixedClock('2024-03-04T10:30:00Z');

beforeEach(() => {
  sfnMock.reset();
  snsMock.reset();
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date(),
  }));
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  // The open incidents' executions are still running (tests/unit/lifecycle.test.ts has the ones that ended).
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  ddb = new SimulatedDynamoDb();
  store = new IncidentStore(ddb as never, 'incidents');
  ownSessions = new OwnSessionStore(ddb as never, 'incidents');
  pipeline = new PipelineHealthStore(ddb as never, 'incidents');
  log = memoryLog();
  deps = {
    store,
    ownSessions,
    pipeline,
    sfn: new SFNClient({ region: 'us-east-1' }),
    sns: new SNSClient({ region: 'us-east-1' }),
    clock,
    log,
    config: {
      stateMachineArn: STATE_MACHINE,
      alertTopicArn: TOPIC,
      knownSources: knownSources([]),
      settings: { approvalWaitSeconds: 3600, maxReminders: 3 },
    },
  };
});

const rootSignIn = () => fixture('cloudtrail/eventbridge/awsdocs_cwe__console_signin_root_envelope.json');
const startedInputs = (): ExecutionInput[] =>
  sfnMock.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input!) as ExecutionInput);

describe('intake', () => {
  it('a root console sign-in opens one incident, starts one execution and alerts', async () => {
    const result = await intake(rootSignIn(), deps);

    expect(result).toMatchObject({ outcome: 'opened', severity: 'critical', unparsed: false });
    const incidentId = (result as { incidentId: string }).incidentId;
    expect(incidentId).toMatch(/^123456789012-20160105T182127Z-[0-9a-f]{10}$/);
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: STATE_MACHINE, name: incidentId });
    const [input] = startedInputs();
    expect(input).toMatchObject({
      incidentId,
      accountId: '123456789012',
      region: 'us-east-1',
      source: 'cloudtrail',
      unparsed: false,
      settings: { approvalWaitSeconds: 3600, maxReminders: 3 },
    });
    expect(input!.trigger).toMatchObject({ eventName: 'ConsoleLogin', isRoot: true, severity: 'critical' });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    const publish = snsMock.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(publish.TopicArn).toBe(TOPIC);
    expect(publish.Subject).toBe('[root-responder] CRITICAL: root activity in account 123456789012');
    expect(publish.Message).toContain('without MFA');
    const marker = await store.openIncident('123456789012');
    expect(marker).toMatchObject({ incidentId, executionArn: expect.stringContaining(incidentId), alertedAt: '2024-03-04T10:30:00.000Z' });
  });

  it('a GuardDuty root-credential finding opens an incident', async () => {
    const result = await intake(fixture('written/guardduty_root_credential_usage_finding__written.json'), deps);
    expect(result).toMatchObject({ outcome: 'opened', severity: 'high' });
    expect(startedInputs()[0]).toMatchObject({
      source: 'guardduty',
      accountId: '111122223333',
      trigger: { sourceIPAddress: '198.51.100.23', categories: ['read-only'] },
    });
  });

  it.each([
    ['a non-root sign-in', () => fixture('cloudtrail/non_root_controls/flaws_usiem__console_login_success_iam.json'), 'ignored'],
    [
      'a non-root StopLogging',
      () => fixture('cloudtrail/non_root_controls/panther__aws_cloudtrail_stopped__t0__cloudtrail_was_stopped.json'),
      'ignored',
    ],
    ['a service acting for root', () => fixture('written/root_invokedby_glue_getdataaccess__written.json'), 'benign'],
    ['an AWS service event', () => fixture('cloudtrail/benign/awsdocs_ct__kms_rotatekey_awsserviceevent_BENIGN.json'), 'ignored'],
    [
      'CreateServiceLinkedRole by root',
      () => fixture('cloudtrail/root_api/panther__aws_root_activity__t0__root_activity_createservicelinkedrole.json'),
      'benign',
    ],
    [
      'a failed root sign-in',
      () => fixture('cloudtrail/signin/panther__aws_console_root_login_failed__t0__failed_root_login.json'),
      'ignored',
    ],
  ])('%s starts nothing', async (_name, make, outcome) => {
    const result = await intake(envelope(make()), deps);
    expect(result.outcome).toBe(outcome);
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 0);
    expect(ddb.items('incidents')).toEqual([]);
  });

  it.each([
    ['a string', 'not an event'],
    ['null', null],
    ['an array', [rootSignIn()]],
    ['an object with no detail', { hello: 'world' }],
    ['an envelope whose detail is not CloudTrail', { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }],
  ])('rejects %s with InvalidEventError and starts nothing', async (_name, input) => {
    await expect(intake(input, deps)).rejects.toThrow(InvalidEventError);
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
    expect(ddb.items('incidents')).toEqual([]);
  });

  it('fails open: a root-typed event with broken fields still alerts and opens an unparsed incident', async () => {
    // The published sample's envelope has a placeholder source ("1.1.1.2"): under an AWS source it opens an incident.
    const broken = { ...fixture('cloudtrail/edge_cases/streamalert__root_account_usage__0.json'), source: 'aws.signin' };
    const result = await intake(broken, deps);
    expect(result).toMatchObject({ outcome: 'opened', unparsed: true });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(snsMock.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain('did not fit the expected schema');
    expect(startedInputs()[0]).toMatchObject({ unparsed: true, accountId: 'unknown-account' });
    expect(log.lines.some((l) => l.level === 'warn' && /fail open/.test(l.message))).toBe(true);
  });

  it('a root-typed record with a missing eventName still opens an incident', async () => {
    const record = { ...fixture('cloudtrail/root_api/panther_scenario__attacker_cloudtrail__6__createuser.json') };
    delete record['eventName'];
    const result = await intake(envelope(record), deps);
    expect(result).toMatchObject({ outcome: 'opened', unparsed: true });
  });

  it('while an incident is open, a duplicate and a new root event attach to it and start nothing', async () => {
    const first = await intake(rootSignIn(), deps);
    const again = await intake(rootSignIn(), deps);
    const other = await intake(envelope(fixture('cloudtrail/root_api/panther_scenario__attacker_cloudtrail__6__createuser.json')), deps);

    const incidentId = (first as { incidentId: string }).incidentId;
    expect(again).toMatchObject({ outcome: 'attached', incidentId, duplicate: true });
    expect(other.outcome).toBe('opened'); // another account (493859302102): an incident of its own
    const sameAccount = {
      ...fixture('cloudtrail/root_api/panther_scenario__attacker_cloudtrail__6__createuser.json'),
      recipientAccountId: '123456789012',
      userIdentity: { type: 'Root', accountId: '123456789012', arn: 'arn:aws:iam::123456789012:root' },
    };
    const attached = await intake(envelope(sameAccount), deps);
    expect(attached).toMatchObject({ outcome: 'attached', incidentId, duplicate: false });
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 2); // this incident, and the other account's
    expect(startedInputs().map((i) => i.accountId)).toEqual(['123456789012', '493859302102']);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 2);
    expect((await store.events(incidentId)).map((e) => e.eventName).sort()).toEqual(['ConsoleLogin', 'CreateUser']);
  });

  it('a failed root sign-in during an open incident is attached to it', async () => {
    const first = await intake(rootSignIn(), deps);
    const failed = {
      ...fixture('cloudtrail/signin/panther__aws_console_root_login_failed__t0__failed_root_login.json'),
      recipientAccountId: '123456789012',
    };
    const result = await intake(envelope(failed), deps);
    expect(result).toMatchObject({ outcome: 'attached', incidentId: (first as { incidentId: string }).incidentId });
  });

  it('an event after the incident closed opens a new incident', async () => {
    const first = (await intake(rootSignIn(), deps)) as { incidentId: string };
    await store.close('123456789012', first.incidentId, 'resolved', '2024-03-04T12:00:00Z');
    const later = {
      ...rootSignIn(),
      detail: { ...(rootSignIn()['detail'] as object), eventID: 'later-event', eventTime: '2016-01-06T09:00:00Z' },
    };
    const second = await intake(later, deps);
    expect(second).toMatchObject({ outcome: 'opened' });
    expect((second as { incidentId: string }).incidentId).not.toBe(first.incidentId);
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
    expect(await store.status(first.incidentId)).toBe('resolved');
    expect(await store.status((second as { incidentId: string }).incidentId)).toBe('open');
  });

  it('a retry after StartExecution failed transiently starts the execution exactly once', async () => {
    sfnMock.on(StartExecutionCommand).rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(intake(rootSignIn(), deps)).rejects.toThrow(TransientAwsError);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 0);

    sfnMock
      .on(StartExecutionCommand)
      .resolves({ executionArn: 'arn:aws:states:us-east-1:999988887777:execution:x:y', startDate: new Date() });
    const retried = await intake(rootSignIn(), deps);
    expect(retried).toMatchObject({ outcome: 'opened' });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    await intake(rootSignIn(), deps);
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 2); // one failed, one succeeded, none after
  });

  it('ExecutionAlreadyExists means the execution runs: success, not an error', async () => {
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const result = await intake(rootSignIn(), deps);
    expect(result).toMatchObject({
      outcome: 'opened',
      executionArn: expect.stringMatching(/:execution:root-compromise-response-test:123456789012-/),
    });
  });

  it("this tool's own AssumeRoot session is benign only for its recorded access key id", async () => {
    const ours = fixture('written/root_assumeroot_session_deleteaccesskey__written.json');
    await ownSessions.recordOwnSession('444455556666', 'ASIAROOTSESSIONEXAMPLE', new Date('2024-03-04T10:21:00Z'));
    expect(await intake(envelope(ours), deps)).toMatchObject({ outcome: 'benign' });
    const theirs = { ...ours, userIdentity: { ...(ours['userIdentity'] as object), accessKeyId: 'ASIAATTACKERSESSION1' } };
    expect(await intake(envelope(theirs), deps)).toMatchObject({ outcome: 'opened' });
  });

  it('a canary records its account and region and starts nothing', async () => {
    const canary = {
      version: '0',
      id: 'c-1',
      'detail-type': 'Root responder canary',
      source: 'root-responder.canary',
      account: '444455556666',
      time: '2024-03-04T10:29:00Z',
      region: 'eu-west-1',
      resources: [],
      detail: { stage: 'test' },
    };
    expect(await intake(canary, deps)).toEqual({ outcome: 'canary', accountId: '444455556666', region: 'eu-west-1' });
    expect(await pipeline.canaryArrivals()).toEqual([
      { accountId: '444455556666', region: 'eu-west-1', receivedAt: '2024-03-04T10:30:00.000Z' },
    ]);
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 0);
    await expect(intake({ ...canary, account: 'not-an-account' }, deps)).rejects.toBeInstanceOf(InvalidEventError);
  });

  it('a root CloudTrail record under the canary source is refused and alerted, never acted on', async () => {
    const disguised = { ...rootSignIn(), source: 'root-responder.canary' };
    expect(await intake(disguised, deps)).toEqual({
      outcome: 'refused',
      reason: 'not-an-aws-source',
      accounts: ['123456789012', '123456789012'],
      alerted: true,
    });
    expect(await pipeline.canaryArrivals()).toEqual([]);
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(snsMock.commandCalls(PublishCommand)[0]!.args[0].input.Subject).toBe(
      '[root-responder] REFUSED: forged root event put on the bus by account 123456789012',
    );
    expect(ddb.items('incidents')).toEqual([]);
  });

  it('a root-typed event of unexpected shape under a source AWS never uses still alerts (refused, fail open on the alert)', async () => {
    const result = await intake(fixture('cloudtrail/edge_cases/streamalert__root_account_usage__0.json'), deps);
    expect(result).toMatchObject({ outcome: 'refused', reason: 'not-an-aws-source', accounts: ['unknown', 'unknown'] });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(snsMock.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain('source "1.1.1.2"');
    expect(sfnMock).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
  });

  it('a later root event is counted for the digest, not mailed; a failed count does not fail intake', async () => {
    const counts: string[] = [];
    const digests = {
      count: (c: { eventName: string }) => {
        counts.push(c.eventName);
        return counts.length === 1
          ? Promise.resolve()
          : Promise.reject(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
      },
      claimAlert: () => Promise.resolve(true),
      releaseAlert: () => Promise.resolve(),
    };
    const withDigests = { ...deps, digests };
    await intake(rootSignIn(), withDigests);
    const later = (id: string) => ({ ...rootSignIn(), detail: { ...(rootSignIn()['detail'] as object), eventID: id } });
    expect(await intake(later('later-1'), withDigests)).toMatchObject({ outcome: 'attached', duplicate: false });
    expect(await intake(later('later-2'), withDigests)).toMatchObject({ outcome: 'attached', duplicate: false });
    expect(await intake(later('later-2'), withDigests)).toMatchObject({ outcome: 'attached', duplicate: true });
    expect(counts).toEqual(['ConsoleLogin', 'ConsoleLogin']); // the opening event is in the alert; the duplicate is not counted
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(log.lines.some((l) => l.level === 'warn' && /not counted for the alert digest/.test(l.message))).toBe(true);
  });

  it('logs no credentials or raw event fields', async () => {
    await intake(fixture('cloudtrail/edge_cases/streamalert__root_account_usage__0.json'), deps);
    await intake(envelope(fixture('written/root_console_session_createuser_sessioncredentialfromconsole__written.json')), deps);
    const logged = JSON.stringify(log.lines);
    expect(logged).not.toContain('ASIAIOSFODNN7EXAMPLE');
    expect(logged).not.toContain('userIdentity');
  });
});
