import { AlertDigestStore } from '#shared/alert-digest-store';
import { fixedClock } from '#shared/clock';
import { memoryLog } from '#shared/logger';
import { sendAlertDigests } from '#functions/send-alert-digest/send-alert-digest';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { SimulatedSns } from '#drill/simulated-sns';

const TOPIC = 'arn:aws:sns:us-east-1:999988887777:alerts';

function setup() {
  const ddb = new SimulatedDynamoDb();
  const clock = fixedClock('2024-03-04T10:45:00Z');
  const sns = new SimulatedSns(() => clock.now());
  const digests = new AlertDigestStore(ddb as never, 'incidents');
  const run = (sender: { send: SimulatedSns['send'] } = sns) =>
    sendAlertDigests({ digests, sns: sender as never, alertTopicArn: TOPIC, intervalMinutes: 15, clock, log: memoryLog() });
  const count = (subject: string, eventName: string, n: number, readOnly = false) =>
    Promise.all(
      Array.from({ length: n }, () =>
        digests.count({
          subject,
          incidentId: subject,
          accountId: '111122223333',
          title: `incident ${subject}`,
          eventName,
          readOnly,
          at: clock.now(),
        }),
      ),
    );
  return { ddb, clock, sns, digests, run, count };
}

describe('alert digest', () => {
  it('reports only what is new since the last digest, then drops a quiet subject', async () => {
    const { sns, run, count, digests } = setup();
    await count('inc-1', 'CreateUser', 5);
    await count('inc-1', 'ListUsers', 3, true);
    expect((await run()).sent).toEqual([{ subject: 'inc-1', events: 8 }]);
    await count('inc-1', 'CreateUser', 2);
    expect((await run()).sent).toEqual([{ subject: 'inc-1', events: 2 }]);
    expect(sns.outbox[1]!.body).toMatch(/^ {2}CreateUser +2$/m);
    expect(sns.outbox[1]!.body).not.toContain('ListUsers');
    expect(sns.outbox[1]!.body).toContain('In all so far: 10 (3 read-only).');
    expect(await run()).toMatchObject({ sent: [], dropped: 1 });
    expect(await digests.all()).toEqual([]);
    // A later event starts from zero: its digest counts it alone.
    await count('inc-1', 'DeleteUser', 1);
    expect((await run()).sent).toEqual([{ subject: 'inc-1', events: 1 }]);
  });

  it('an event name that is not an API name is counted as "other", never as an attribute of its own', async () => {
    const { sns, run, count } = setup();
    await count('inc-2', 'Create User<script>', 2);
    await run();
    expect(sns.outbox[0]!.body).toMatch(/^ {2}other +2$/m);
  });

  it('one subject failing to send holds back neither the others nor its own counts', async () => {
    const { sns, run, count } = setup();
    await count('inc-a', 'CreateUser', 4);
    await count('inc-b', 'CreateUser', 6);
    let calls = 0;
    const flaky = {
      send: (command: unknown) => {
        calls++;
        if (calls === 1) return Promise.reject(Object.assign(new Error('denied'), { name: 'AuthorizationErrorException' }));
        return sns.send(command);
      },
    };
    const first = await run(flaky);
    expect(first.sent).toEqual([{ subject: 'inc-b', events: 6 }]);
    expect(first.failed).toEqual([{ subject: 'inc-a', error: 'NotificationError' }]);
    expect((await run()).sent).toEqual([{ subject: 'inc-a', events: 4 }]);
  });
});
