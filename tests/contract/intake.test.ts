import { expect } from '@jest/globals';
import { CreateStateMachineCommand, DescribeExecutionCommand, ListExecutionsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { fixedClock } from '#shared/clock';
import { IncidentStore } from '#shared/incident-store';
import { OwnSessionStore } from '#shared/own-session-store';
import { PipelineHealthStore } from '#shared/pipeline-health-store';
import { knownSources } from '#shared/known-sources';
import { memoryLog } from '#shared/logger';
import type { ExecutionInput } from '#shared/contracts/execution-input';
import { intake, type IntakeDeps } from '#functions/intake/intake';
import { envelope, fixture } from '../helpers';
import { ACCOUNT, describeMoto, itKeepsTheManifestHonest, useMoto, watchSent } from './moto';

/**
 * Intake on moto: the incidents table (transactions, conditional writes), StartExecution on a
 * state machine moto holds (a deterministic name; the same name and input again is the same
 * execution, as AWS documents), the alert on an SNS topic.
 */
describeMoto('contract: intake', () => {
  const moto = useMoto();
  const clock = fixedClock('2016-01-05T18:24:00Z');
  let deps: IntakeDeps;
  let stateMachineArn: string;
  let store: IncidentStore;
  let pipeline: PipelineHealthStore;
  const topicName = 'root-responder-test-alerts';
  const topicArn = `arn:aws:sns:us-east-1:${ACCOUNT}:${topicName}`;
  const rootSignIn = () => fixture('cloudtrail/eventbridge/awsdocs_cwe__console_signin_root_envelope.json');

  beforeEach(async () => {
    await moto.reset();
    const { incidents } = await moto.aws.createTables();
    stateMachineArn = (
      await moto.aws.sfnAdmin().send(
        new CreateStateMachineCommand({
          name: 'root-compromise-response-test',
          roleArn: `arn:aws:iam::${ACCOUNT}:role/root-responder-test-sfn`,
          definition: JSON.stringify({ StartAt: 'Wait', States: { Wait: { Type: 'Pass', End: true } } }),
        }),
      )
    ).stateMachineArn!;
    store = new IncidentStore(moto.aws.documentClient(), incidents);
    pipeline = new PipelineHealthStore(moto.aws.documentClient(), incidents);
    deps = {
      store,
      ownSessions: new OwnSessionStore(moto.aws.documentClient(), incidents),
      pipeline,
      sfn: moto.aws.sfn(),
      sns: moto.aws.sns(),
      clock,
      log: memoryLog(),
      config: {
        stateMachineArn,
        alertTopicArn: topicArn,
        knownSources: knownSources([]),
        settings: { approvalWaitSeconds: 3600, maxReminders: 3 },
      },
    };
  });

  const executions = async () => (await moto.aws.sfnAdmin().send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];

  it('a root console sign-in opens one incident, starts its execution by name and alerts', async () => {
    await moto.aws.snsAdmin().send(new CreateTopicCommand({ Name: topicName }));
    const result = await intake(rootSignIn(), deps);

    expect(result).toMatchObject({ outcome: 'opened', severity: 'critical' });
    const { incidentId, executionArn } = result as { incidentId: string; executionArn: string };
    const execution = await moto.aws.sfnAdmin().send(new DescribeExecutionCommand({ executionArn }));
    expect(execution).toMatchObject({ name: incidentId, stateMachineArn });
    expect(JSON.parse(execution.input!) as ExecutionInput).toMatchObject({
      incidentId,
      accountId: '123456789012',
      source: 'cloudtrail',
      trigger: { eventName: 'ConsoleLogin' },
    });
    expect(await store.openIncident('123456789012')).toMatchObject({ incidentId, executionArn, alertedAt: '2016-01-05T18:24:00.000Z' });
  });

  it('a redelivery is a duplicate, another root event attaches: still one execution', async () => {
    await moto.aws.snsAdmin().send(new CreateTopicCommand({ Name: topicName }));
    const first = (await intake(rootSignIn(), deps)) as { incidentId: string };
    expect(await intake(rootSignIn(), deps)).toMatchObject({ outcome: 'attached', incidentId: first.incidentId, duplicate: true });
    const apiCall = envelope(fixture('cloudtrail/root_api/panther_scenario__attacker_cloudtrail__6__createuser.json')) as Record<
      string,
      unknown
    >;
    const attached = await intake(
      {
        ...apiCall,
        account: '123456789012',
        detail: {
          ...(apiCall['detail'] as object),
          recipientAccountId: '123456789012',
          userIdentity: { type: 'Root', accountId: '123456789012', arn: 'arn:aws:iam::123456789012:root', principalId: '123456789012' },
        },
      },
      deps,
    );
    expect(attached).toMatchObject({ outcome: 'attached', incidentId: first.incidentId, duplicate: false });
    expect(await executions()).toHaveLength(1);
  });

  it('an execution that ended (stopped: ABORTED) releases its marker: the next root event opens a new incident linking it', async () => {
    await moto.aws.snsAdmin().send(new CreateTopicCommand({ Name: topicName }));
    const first = (await intake(rootSignIn(), deps)) as { incidentId: string; executionArn: string };
    await moto.aws.sfnAdmin().send(new StopExecutionCommand({ executionArn: first.executionArn }));
    const later = fixture<Record<string, unknown>>('cloudtrail/eventbridge/awsdocs_cwe__console_signin_root_envelope.json');
    const second = await intake(
      { ...later, detail: { ...(later['detail'] as object), eventID: 'days-later', eventTime: '2016-01-09T09:00:00Z' } },
      deps,
    );
    expect(second).toMatchObject({ outcome: 'opened' });
    const { incidentId, executionArn } = second as { incidentId: string; executionArn: string };
    expect(await store.meta(first.incidentId)).toMatchObject({
      status: 'failed',
      closedBy: 'intake',
      reason: expect.stringContaining('ABORTED'),
    });
    expect(await store.openIncident('123456789012')).toMatchObject({ incidentId, executionArn });
    const execution = await moto.aws.sfnAdmin().send(new DescribeExecutionCommand({ executionArn }));
    expect(JSON.parse(execution.input!) as ExecutionInput).toMatchObject({ incidentId, previousIncidentId: first.incidentId });
    expect(await executions()).toHaveLength(2);
  });

  it('an open marker naming an execution Step Functions does not have (ExecutionDoesNotExist) is released too', async () => {
    await moto.aws.snsAdmin().send(new CreateTopicCommand({ Name: topicName }));
    const first = (await intake(rootSignIn(), deps)) as { incidentId: string };
    await store.recordProgress('123456789012', first.incidentId, {
      executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:never-started`,
    });
    const later = fixture<Record<string, unknown>>('cloudtrail/eventbridge/awsdocs_cwe__console_signin_root_envelope.json');
    const second = await intake(
      { ...later, detail: { ...(later['detail'] as object), eventID: 'days-later', eventTime: '2016-01-09T09:00:00Z' } },
      deps,
    );
    expect(second).toMatchObject({ outcome: 'opened' });
    expect(await store.meta(first.incidentId)).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('DOES_NOT_EXIST'),
    });
  });

  it('crash recovery: the alert failed (no topic), the redelivery finishes the opening and StartExecution again is the same execution', async () => {
    const sentNow = watchSent();
    await expect(intake(rootSignIn(), deps)).rejects.toMatchObject({
      name: 'NotificationError',
      message: expect.stringContaining('NotFoundException'),
    });
    await moto.aws.snsAdmin().send(new CreateTopicCommand({ Name: topicName }));
    const again = await intake(rootSignIn(), deps);
    expect(again).toMatchObject({ outcome: 'opened' });
    expect(sentNow('StartExecutionCommand')).toHaveLength(2);
    expect(sentNow('StartExecutionCommand').map((s) => s.error)).toEqual([undefined, undefined]);
    expect(await executions()).toHaveLength(1);
    expect(sentNow('PublishCommand').map((s) => s.error)).toEqual(['NotFoundException', undefined]);
  });

  it('a canary records its arrival and starts nothing', async () => {
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
      { accountId: '444455556666', region: 'eu-west-1', receivedAt: '2016-01-05T18:24:00.000Z' },
    ]);
    expect(await executions()).toHaveLength(0);
  });

  itKeepsTheManifestHonest(__filename);
});
