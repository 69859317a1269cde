import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '#shared/clock';
import { ExecutionStatusError, InvalidEventError, TransientAwsError } from '#shared/errors';
import { IncidentStore } from '#shared/incident-store';
import { knownSources } from '#shared/known-sources';
import { memoryLog } from '#shared/logger';
import { OwnSessionStore } from '#shared/own-session-store';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import type { ExecutionInput } from '#shared/contracts/execution-input';
import { ExecutionStatusChangeSchema, type ExecutionStatusChange } from '#shared/contracts/execution-status-change';
import { intake, type IntakeDeps } from '#functions/intake/intake';
import { reportExecutionEnded, reportFailure } from '#functions/report-failure/report-failure';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { envelope, fixture } from '../helpers';

/**
 * An incident always ends. A report with open items ends it as needs-attention (steps.test.ts); an
 * execution that ends FAILED, TIMED_OUT or ABORTED ends it as failed through EventBridge; an open
 * marker whose execution no longer runs never swallows a later root event.
 */
const STATE_MACHINE = 'arn:aws:states:us-east-1:999988887777:stateMachine:root-responder-test';
const EXECUTIONS = STATE_MACHINE.replace(':stateMachine:', ':execution:');
const TOPIC = 'arn:aws:sns:us-east-1:999988887777:alerts';
const clock = fixedClock('2024-03-08T10:00:00Z');

const sfnMock = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
let ddb: SimulatedDynamoDb;
let store: IncidentStore;

beforeEach(() => {
  sfnMock.reset();
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
  sfnMock
    .on(StartExecutionCommand)
    .callsFake((input: { name: string }) => ({ executionArn: `${EXECUTIONS}:${input.name}`, startDate: new Date() }));
  ddb = new SimulatedDynamoDb();
  store = new IncidentStore(ddb as never, 'incidents');
});

function intakeDeps(): IntakeDeps {
  return {
    store,
    ownSessions: new OwnSessionStore(ddb as never, 'incidents'),
    pipeline: new PipelineHealthStore(ddb as never, 'incidents'),
    sfn: new SFNClient({ region: 'us-east-1' }),
    sns: new SNSClient({ region: 'us-east-1' }),
    clock,
    log: memoryLog(),
    config: {
      stateMachineArn: STATE_MACHINE,
      alertTopicArn: TOPIC,
      knownSources: knownSources([]),
      settings: { approvalWaitSeconds: 3600, maxReminders: 3 },
    },
  };
}

const ACCOUNT = '123456789012';
const signIn = () => fixture('cloudtrail/eventbridge/awsdocs_cwe__console_signin_root_envelope.json');
/** Root CreateAccessKey in the same account four days later. */
const laterCreateAccessKey = () =>
  envelope({
    ...fixture('cloudtrail/root_api/panther_scenario__attacker_cloudtrail__6__createuser.json'),
    eventName: 'CreateAccessKey',
    eventID: 'four-days-later',
    eventTime: '2016-01-09T18:00:00Z',
    recipientAccountId: ACCOUNT,
    userIdentity: { type: 'Root', accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root` },
  });
const started = (): ExecutionInput[] =>
  sfnMock.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input!) as ExecutionInput);

/** The event Step Functions sends to EventBridge (shape from the Step Functions developer guide's EventBridge page). */
function statusChange(
  incident: ExecutionInput | undefined,
  status: string,
  extra: Partial<ExecutionStatusChange['detail']> = {},
): ExecutionStatusChange {
  const name = incident?.incidentId ?? `${ACCOUNT}-20160105T182127Z-0000000000`;
  return ExecutionStatusChangeSchema.parse({
    version: '0',
    id: '315c1398-40ff-a850-213b-158f73e60175',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '999988887777',
    time: '2024-03-08T09:59:00Z',
    region: 'us-east-1',
    resources: [`${EXECUTIONS}:${name}`],
    detail: {
      executionArn: `${EXECUTIONS}:${name}`,
      stateMachineArn: STATE_MACHINE,
      name,
      status,
      startDate: 1709880000000,
      stopDate: 1709891940000,
      input: incident ? JSON.stringify(incident) : null,
      inputDetails: { included: incident !== undefined },
      output: null,
      outputDetails: null,
      error: status === 'FAILED' ? 'States.Runtime' : null,
      cause: status === 'FAILED' ? 'An error occurred while executing the state' : null,
      ...extra,
    },
  });
}

async function openFirst(): Promise<ExecutionInput> {
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  const first = await intake(signIn(), intakeDeps());
  expect(first.outcome).toBe('opened');
  return started()[0]!;
}

describe('an execution that ends without its report (EventBridge status change)', () => {
  const deps = () => ({ store, sns: new SNSClient({}), alertTopicArn: TOPIC, clock, stateMachineArn: STATE_MACHINE, log: memoryLog() });

  for (const status of ['FAILED', 'TIMED_OUT', 'ABORTED']) {
    it(`${status}: ends the incident as failed, releases the account and tells the responders`, async () => {
      const incident = await openFirst();
      const out = await reportExecutionEnded(statusChange(incident, status), deps());
      expect(out).toEqual({
        step: 'report-failure',
        status: 'done',
        outcome: 'closed',
        incidentId: incident.incidentId,
        accountId: ACCOUNT,
        executionStatus: status,
      });
      expect(await store.openIncident(ACCOUNT)).toBeUndefined();
      expect(await store.meta(incident.incidentId)).toMatchObject({
        status: 'failed',
        closedAt: '2024-03-08T09:59:00.000Z',
        closedBy: 'report-failure',
        reason: expect.stringContaining(`The execution ended ${status}`) as string,
      });
      const alert = snsMock.commandCalls(PublishCommand).at(-1)!.args[0].input;
      expect(alert).toMatchObject({ TopicArn: TOPIC, Subject: `[root-responder] FAILED: response to incident ${incident.incidentId}` });
      expect(alert.Message).toContain(`ended ${status}`);
    });
  }

  it('finds the incident by the execution name when the input is absent or cut short', async () => {
    const incident = await openFirst();
    const cut = statusChange(incident, 'TIMED_OUT', { input: JSON.stringify(incident).slice(0, 40) });
    expect(await reportExecutionEnded(cut, deps())).toMatchObject({
      outcome: 'closed',
      incidentId: incident.incidentId,
      accountId: ACCOUNT,
    });
    expect(await store.status(incident.incidentId)).toBe('failed');

    const second = { ...incident, incidentId: `${ACCOUNT}-20160106T000000Z-1111111111` };
    await store.openOrAttach(second, {
      key: 'k',
      eventId: 'e',
      eventName: 'ConsoleLogin',
      eventTime: null,
      severity: 'critical',
      startsIncident: true,
      sourceIPAddress: null,
      receivedAt: 'x',
    });
    const absent = statusChange(undefined, 'ABORTED', { name: second.incidentId, executionArn: `${EXECUTIONS}:${second.incidentId}` });
    expect(await reportExecutionEnded(absent, deps())).toMatchObject({
      outcome: 'closed',
      incidentId: second.incidentId,
      accountId: ACCOUNT,
    });
    expect(await store.openIncident(ACCOUNT)).toBeUndefined();
  });

  it('after the Catch path already reported the failure: nothing changes and nobody is emailed twice', async () => {
    const incident = await openFirst();
    await reportFailure({ ...incident, failure: { Error: 'NotificationError' } }, deps());
    const emails = snsMock.commandCalls(PublishCommand).length;
    const out = await reportExecutionEnded(statusChange(incident, 'FAILED'), deps());
    expect(out).toMatchObject({ outcome: 'already-ended', incidentStatus: 'failed' });
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(emails);
    expect(await store.meta(incident.incidentId)).toMatchObject({ status: 'failed', reason: 'The workflow stopped: NotificationError' });
  });

  it('fails safe: another state machine is refused, a non-final status changes nothing, an unknown incident is still reported', async () => {
    const incident = await openFirst();
    const other = statusChange(incident, 'FAILED', { stateMachineArn: `${STATE_MACHINE}-other` });
    await expect(reportExecutionEnded(other, deps())).rejects.toThrow(InvalidEventError);
    expect(await reportExecutionEnded(statusChange(incident, 'SUCCEEDED'), deps())).toMatchObject({ outcome: 'ignored' });
    expect(await store.status(incident.incidentId)).toBe('open');

    const unknown = statusChange(undefined, 'ABORTED', { input: '{"incidentId":' });
    expect(await reportExecutionEnded(unknown, deps())).toMatchObject({ outcome: 'unidentified' });
    expect(snsMock.commandCalls(PublishCommand).at(-1)!.args[0].input.Subject).toContain('ended ABORTED');
    expect(await store.openIncident(ACCOUNT)).toMatchObject({ incidentId: incident.incidentId });
  });

  it("the schema reads AWS's event, and refuses one that is not from aws.states", () => {
    expect(ExecutionStatusChangeSchema.safeParse({ ...statusChange(undefined, 'FAILED'), source: 'custom.states' }).success).toBe(false);
    expect(ExecutionStatusChangeSchema.safeParse(statusChange(undefined, 'FAILED')).success).toBe(true);
  });
});

describe('a later root event in an account whose incident ended', () => {
  it('starts a new execution and alerts, and the new incident links the earlier one', async () => {
    const first = await openFirst();
    await store.close(ACCOUNT, first.incidentId, 'needs-attention', '2016-01-06T00:00:00Z', {
      openItems: ['Change the root password: overdue'],
    });
    const later = await intake(laterCreateAccessKey(), intakeDeps());
    expect(later).toMatchObject({ outcome: 'opened' });
    expect(started()).toHaveLength(2);
    expect(started()[1]).toMatchObject({ previousIncidentId: first.incidentId, trigger: { eventName: 'CreateAccessKey' } });
    expect(await store.meta((later as { incidentId: string }).incidentId)).toMatchObject({
      status: 'open',
      previousIncidentId: first.incidentId,
    });
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(2);
  });

  it('a late redelivery of the event that opened an incident that has ended starts nothing (no retry loop into the dead-letter queue)', async () => {
    const first = await openFirst();
    await store.close(ACCOUNT, first.incidentId, 'needs-attention', '2016-01-06T00:00:00Z');
    const again = await intake(signIn(), intakeDeps());
    expect(again).toEqual({ outcome: 'attached', incidentId: first.incidentId, duplicate: true });
    expect(started()).toHaveLength(1);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
    expect(await store.openIncident(ACCOUNT)).toBeUndefined();
  });

  it('an open marker whose execution no longer runs is released: the event opens a new incident', async () => {
    const first = await openFirst();
    // The first execution ended, and nothing recorded it (the old code left such a marker forever).
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'TIMED_OUT' });
    const later = await intake(laterCreateAccessKey(), intakeDeps());
    expect(later).toMatchObject({ outcome: 'opened' });
    const laterId = (later as { incidentId: string }).incidentId;
    expect(laterId).not.toBe(first.incidentId);
    expect(sfnMock).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: `${EXECUTIONS}:${first.incidentId}` });
    expect(started()[1]).toMatchObject({ incidentId: laterId, previousIncidentId: first.incidentId });
    expect(await store.meta(first.incidentId)).toMatchObject({
      status: 'failed',
      closedBy: 'intake',
      reason: expect.stringContaining('TIMED_OUT') as string,
    });
    expect(await store.openIncident(ACCOUNT)).toMatchObject({ incidentId: laterId });
    // The event went to the new incident, not the ended one.
    expect((await store.events(first.incidentId)).map((e) => e.eventName)).toEqual(['ConsoleLogin']);
    expect((await store.events(laterId)).map((e) => e.eventName)).toEqual(['CreateAccessKey']);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(2);
  });

  it('an execution Step Functions does not know (ExecutionDoesNotExist) is ended too', async () => {
    const first = await openFirst();
    sfnMock.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
    const later = await intake(laterCreateAccessKey(), intakeDeps());
    expect(later).toMatchObject({ outcome: 'opened' });
    expect(await store.meta(first.incidentId)).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('DOES_NOT_EXIST') as string,
    });
  });

  it('a running execution keeps its incident; the check runs only when a marker exists; its failures are typed', async () => {
    const first = await openFirst();
    expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(0); // no marker: no check
    const later = await intake(laterCreateAccessKey(), intakeDeps());
    expect(later).toMatchObject({ outcome: 'attached', incidentId: first.incidentId, duplicate: false });
    expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(1);
    expect(started()).toHaveLength(1);

    sfnMock.on(DescribeExecutionCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(intake(laterCreateAccessKey(), intakeDeps())).rejects.toThrow(TransientAwsError);
    sfnMock.on(DescribeExecutionCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
    await expect(intake(laterCreateAccessKey(), intakeDeps())).rejects.toThrow(ExecutionStatusError);
    expect(await store.openIncident(ACCOUNT)).toMatchObject({ incidentId: first.incidentId });
  });
});
