import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { IncidentStore } from '#shared/incident-store';
import type { ExecutionInput } from '#shared/contracts/execution-input';
import { incidentsCommand, type IncidentsDeps } from '#cli/incidents-command';
import { main } from '#cli/main';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { SimulatedAws } from '#drill/simulated-aws';
import { denyRootScpDocument, denyRootScpName } from '#shared/remediations/deny-root-scp';
import { virtualTimer } from '#shared/rate-limit';
import { simAccount, world } from '../helpers-sim';

/** `root-responder incidents list|show|close`, against the simulated DynamoDB (the table found by the stage's name). */
const dynamodbMock = mockClient(DynamoDBClient);
const stsMock = mockClient(STSClient);
const TABLE = 'root-responder-prod-IncidentsTable-1A2B3C4D5E6F';
let ddb: SimulatedDynamoDb;
let store: IncidentStore;
let deps: IncidentsDeps;
let aws: SimulatedAws;
const MANAGEMENT = '999988887777';
const ACCOUNT = '123456789012';

const io = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l), readStdin: () => Promise.resolve('') } };
};

function input(incidentId: string, accountId = '123456789012'): ExecutionInput {
  return {
    incidentId,
    accountId,
    region: 'us-east-1',
    openedAt: `${incidentId.slice(13, 17)}-${incidentId.slice(17, 19)}-${incidentId.slice(19, 21)}T00:00:00.000Z`,
    source: 'cloudtrail',
    unparsed: false,
    trigger: {
      eventId: 'e',
      eventName: 'ConsoleLogin',
      eventSource: 'signin.amazonaws.com',
      accountId,
      sourceIPAddress: '192.0.2.1',
      isRoot: true,
      benign: false,
      startsIncident: true,
      severity: 'critical',
      categories: [],
      reasons: [],
      eventTime: null,
      parsed: true,
    },
    settings: { approvalWaitSeconds: 3600, maxReminders: 3 },
  };
}
const event = (key: string) => ({
  key,
  eventId: key,
  eventName: 'ConsoleLogin',
  eventTime: '2024-03-01T00:00:00Z',
  severity: 'critical' as const,
  startsIncident: true,
  sourceIPAddress: '192.0.2.1',
  receivedAt: '2024-03-01T00:01:00Z',
});

const FIRST = '123456789012-20240301T000000Z-aaaaaaaaaa';
const SECOND = '123456789012-20240305T000000Z-bbbbbbbbbb';

beforeEach(async () => {
  dynamodbMock.reset();
  stsMock.reset();
  dynamodbMock.on(ListTablesCommand).resolves({ TableNames: ['other-table', TABLE, 'root-responder-dev-IncidentsTable-XYZ'] });
  stsMock.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::999988887777:assumed-role/Responder/alice' });
  ddb = new SimulatedDynamoDb();
  store = new IncidentStore(ddb as never, TABLE);
  deps = {
    ddb: () => ddb as never,
    dynamodb: () => new DynamoDBClient({ region: 'us-east-1' }),
    sts: () => new STSClient({ region: 'us-east-1' }),
    // The person runs it in the management account, where the incident's member account is.
    organizations: () => aws.targetClients({ accountId: MANAGEMENT }).organizations(),
    now: () => new Date('2024-03-06T09:00:00Z'),
  };
  aws = new SimulatedAws(
    world([simAccount(MANAGEMENT), simAccount(ACCOUNT)], {
      responderAccountId: MANAGEMENT,
      organization: { id: 'o-a1b2c3d4e5', managementAccountId: MANAGEMENT, features: [], delegatedAdmins: [] },
    }),
    virtualTimer(),
  );
  // The first incident ended with an overdue task; the second is open.
  await store.openOrAttach(input(FIRST), event('k1'));
  await store.close('123456789012', FIRST, 'needs-attention', '2024-03-02T00:00:00Z', {
    closedBy: 'write-incident-report',
    openItems: ['Change the root password: overdue'],
  });
  await store.openOrAttach(input(SECOND), event('k2'));
});

describe('incidents', () => {
  it('list: every incident of the stage, newest first, with its status and what it follows', async () => {
    const t = io();
    expect(await incidentsCommand(['list', '--stage', 'prod'], t.io, deps)).toBe(0);
    expect(t.out).toHaveLength(2);
    expect(t.out[0]).toMatch(new RegExp(`^${SECOND}\\s+open\\s+opened 2024-03-05T00:00:00.000Z\\s+follows ${FIRST}$`));
    expect(t.out[1]).toMatch(new RegExp(`^${FIRST}\\s+needs-attention\\s+.*ended 2024-03-02T00:00:00Z\\s+1 open item\\(s\\)$`));
    const filtered = io();
    expect(await incidentsCommand(['list', '--status', 'needs-attention', '--json', '--stage', 'prod'], filtered.io, deps)).toBe(0);
    expect((JSON.parse(filtered.out.join('\n')) as { incidentId: string }[]).map((m) => m.incidentId)).toEqual([FIRST]);
  });

  it('show: status, open items, who ended it, and its events', async () => {
    const t = io();
    expect(await incidentsCommand(['show', FIRST, '--stage', 'prod'], t.io, deps)).toBe(0);
    expect(t.out).toEqual([
      `Incident ${FIRST}: needs-attention`,
      'Account 123456789012; severity critical; opened 2024-03-01T00:00:00.000Z; ended 2024-03-02T00:00:00Z.',
      'Ended by write-incident-report.',
      'Still open:',
      '- Change the root password: overdue',
      '1 root event(s):',
      '- 2024-03-01T00:00:00Z ConsoleLogin [critical] from 192.0.2.1',
    ]);
    const open = io();
    expect(await incidentsCommand(['show', SECOND, '--stage', 'prod'], open.io, deps)).toBe(0);
    expect(open.out).toContain(`Follows incident ${FIRST} in the same account.`);
    expect(open.out).toContain('Open: root events in 123456789012 attach to it.');
  });

  it('close: records who and why, ends it as resolved and releases the account', async () => {
    const t = io();
    expect(await incidentsCommand(['close', SECOND, '--reason', 'Handled by hand; password changed', '--stage', 'prod'], t.io, deps)).toBe(
      0,
    );
    expect(t.out[0]).toBe(
      `Closed ${SECOND} as resolved (person: arn:aws:sts::999988887777:assumed-role/Responder/alice; was open). Account 123456789012 is released: its next root event opens a new incident.`,
    );
    expect(await store.openIncident('123456789012')).toBeUndefined();
    expect(await store.meta(SECOND)).toMatchObject({
      status: 'resolved',
      closedAt: '2024-03-06T09:00:00.000Z',
      closedBy: 'person: arn:aws:sts::999988887777:assumed-role/Responder/alice',
      reason: 'Handled by hand; password changed',
    });
    // A needs-attention incident, closed once people finished its open items; --by names the person.
    const first = io();
    expect(await incidentsCommand(['close', FIRST, '--reason', 'Password changed', '--by', 'bob', '--stage', 'prod'], first.io, deps)).toBe(
      0,
    );
    expect(await store.meta(FIRST)).toMatchObject({ status: 'resolved', closedBy: 'person: bob', reason: 'Password changed' });
    const again = io();
    expect(await incidentsCommand(['close', FIRST, '--reason', 'x', '--stage', 'prod'], again.io, deps)).toBe(1);
    expect(again.err).toEqual([`incidents close: ${FIRST} is already resolved; nothing changed`]);
  });

  it('close: detaches the deny-root SCP the incident attached, and says so', async () => {
    const org = aws.world.organization!;
    org.policies = [{ Id: 'p-denyroot01', Name: denyRootScpName(ACCOUNT), Content: denyRootScpDocument(ACCOUNT) }];
    org.attachments = { [ACCOUNT]: ['p-denyroot01'] };
    const t = io();
    expect(await incidentsCommand(['close', SECOND, '--reason', 'Done', '--by', 'bob', '--stage', 'prod'], t.io, deps)).toBe(0);
    expect(t.out).toContain(
      `Detached ${denyRootScpName(ACCOUNT)} (p-denyroot01) from ${ACCOUNT}: root of that account is no longer denied by it.`,
    );
    expect(org.attachments[ACCOUNT]).toEqual([]);
    expect(aws.calls.filter((c) => c.command === 'DetachPolicyCommand').map((c) => c.accountId)).toEqual([MANAGEMENT]);
    // None attached: nothing detached, and it says so.
    const first = io();
    expect(await incidentsCommand(['close', FIRST, '--reason', 'Done', '--by', 'bob', '--stage', 'prod'], first.io, deps)).toBe(0);
    expect(first.out).toContain(`${denyRootScpName(ACCOUNT)} is not attached to ${ACCOUNT} (ListPoliciesForTarget).`);
  });

  it('close: a standalone account has no SCP; a refused detach is reported with the command to run by hand', async () => {
    delete aws.world.organization;
    const t = io();
    expect(await incidentsCommand(['close', SECOND, '--reason', 'Done', '--by', 'bob', '--stage', 'prod'], t.io, deps)).toBe(0);
    expect(t.out).toContain(`${ACCOUNT} is not in an organization: no deny-root SCP to detach.`);
    // A caller outside the management account (Organizations refuses): closed, but the SCP may stay: exit 1.
    aws.world.organization = { id: 'o-a1b2c3d4e5', managementAccountId: MANAGEMENT, features: [], delegatedAdmins: [] };
    const refused = io();
    const member = { ...deps, organizations: () => aws.targetClients({ accountId: ACCOUNT }).organizations() };
    expect(await incidentsCommand(['close', FIRST, '--reason', 'Done', '--by', 'bob', '--stage', 'prod'], refused.io, member)).toBe(1);
    expect(await store.meta(FIRST)).toMatchObject({ status: 'resolved' });
    expect(refused.err[0]).toMatch(
      new RegExp(
        `^incidents close: could not detach ${denyRootScpName(ACCOUNT)} from ${ACCOUNT} \\(AccessDeniedError: .*\\); root of that account stays denied until you do: aws organizations detach-policy`,
      ),
    );
  });

  it('says clearly what is wrong: no reason, no stage, an unknown id, no table or two tables', async () => {
    const cases: [string[], number, string][] = [
      [['close', SECOND, '--stage', 'prod'], 2, 'incidents close: --reason TEXT is required (it is kept with the incident)'],
      [['close', SECOND, '--reason', '--stage', 'prod'], 2, 'incidents: --reason needs a value'],
      [['list'], 2, 'incidents: --stage STAGE is required (the stage you deployed, e.g. prod)'],
      [['show', '--stage', 'prod'], 2, 'incidents show: ID is required'],
      [['show', 'nope', '--stage', 'prod'], 1, 'incidents show: no incident nope'],
      [
        ['list', '--stage', 'staging'],
        1,
        'incidents: no table root-responder-staging-IncidentsTable-* in this account and region: is stage "staging" deployed here?',
      ],
      [['remove'], 2, 'usage: root-responder incidents list'],
    ];
    for (const [args, code, message] of cases) {
      const t = io();
      expect({ args, code: await incidentsCommand(args, t.io, deps) }).toEqual({ args, code });
      expect(t.err.join('\n')).toContain(message);
    }
    dynamodbMock.on(ListTablesCommand).resolves({ TableNames: [TABLE, `${TABLE}X`] });
    const two = io();
    expect(await incidentsCommand(['list', '--stage', 'prod'], two.io, deps)).toBe(1);
    expect(two.err[0]).toContain('more than one table matches root-responder-prod-IncidentsTable-*');
    const named = io();
    expect(await incidentsCommand(['list', '--table', TABLE], named.io, deps)).toBe(0);
    expect(named.out).toHaveLength(2);
  });

  it('is in the command line help', async () => {
    const t = io();
    expect(await main(['--help'], t.io)).toBe(0);
    expect(t.out.join('\n')).toContain('root-responder incidents close ID --reason TEXT [--by NAME] --stage STAGE');
  });
});
