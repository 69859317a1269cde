import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fixedClock } from '#shared/clock';
import type { JsonObject } from '#shared/cloudtrail';
import { classifyWindow, REMEDIATION_ACTIONS, type WindowEvent } from '#shared/findings';
import { defaultTriageContext } from '#shared/triage';
import { CATALOG, REMEDIATIONS, remediationFor, type Remediation } from '#shared/remediations/index';
import { denyRootScpDocument, denyRootScpName, detachDenyRootScp } from '#shared/remediations/deny-root-scp';
import { assess } from '#functions/assess-incident/assess-incident';
import { runApprovedAction, type RunActionDeps } from '#functions/run-approved-action/run-approved-action';
import { verifyHumanTask, type VerifyTaskDeps } from '#functions/verify-human-task/verify-human-task';
import type { TaskItemState } from '#shared/contracts/task-item';
import type { AssessInput } from '#shared/contracts/workflow-state';
import { COMMAND_ACTIONS, scpDenies, type SimAccount, SimulatedAws } from '#drill/simulated-aws';
import { RateLimiters, virtualTimer } from '#shared/rate-limit';
import { simAccount, world } from '../helpers-sim';
import { containment, evidenceCollection, rootSnapshot } from '../helpers-state';

const MGMT = '999988887777';
const MEMBER = '444455556666';
const clock = fixedClock('2024-03-04T11:00:00Z');

const root = (accountId: string) => ({ type: 'Root', accountId, arn: `arn:aws:iam::${accountId}:root`, principalId: accountId });
const iamUser = (accountId: string, name: string) => ({
  type: 'IAMUser',
  accountId,
  arn: `arn:aws:iam::${accountId}:user/${name}`,
  userName: name,
});
function event(name: string, source: string, params: JsonObject, extra: JsonObject = {}): JsonObject {
  return {
    eventVersion: '1.08',
    eventID: `${name}-${Math.random().toString(36).slice(2, 10)}`,
    eventTime: '2024-03-04T10:00:00Z',
    eventSource: source,
    eventName: name,
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userIdentity: root(MEMBER),
    requestParameters: params,
    responseElements: null,
    recipientAccountId: MEMBER,
    ...extra,
  };
}
const window = (records: JsonObject[]) =>
  classifyWindow(
    records.map((record): WindowEvent => ({ region: 'us-east-1', record, query: 'root' })),
    defaultTriageContext(),
  );

const timer = virtualTimer();
/** One pool, as the deployed steps share one meter per account and region. */
const limiters = new RateLimiters(2, timer);
function org(member: Partial<SimAccount> = {}) {
  const aws = new SimulatedAws(
    world([simAccount(MGMT), simAccount(MEMBER, member)], {
      organization: {
        id: 'o-abcdefghij',
        managementAccountId: MGMT,
        features: ['RootCredentialsManagement', 'RootSessions'],
        delegatedAdmins: [],
      },
      responderAccountId: MGMT,
    }),
    timer,
  );
  return aws;
}

const item = (action: string, target: string, region = 'us-east-1', accountId = MEMBER): TaskItemState => ({
  Payload: {
    input: {
      incidentId: 'i',
      accountId,
      severity: 'critical',
      task: { id: action, kind: 'remediation', remediation: { action, target, region } },
      waitSeconds: 60,
      reminders: 0,
      maxReminders: 1,
    },
  },
});

function runDeps(aws: SimulatedAws, accountId = MEMBER, member = true): RunActionDeps {
  return {
    clients: aws.targetClients({ accountId }),
    responder: aws.targetClients({ accountId: aws.world.responderAccountId }),
    member,
    clock,
    baseline: { alternateContacts: {} },
    limiters,
    taskDetails: (id) => Promise.resolve({ id, kind: 'remediation', title: 'T', why: [], steps: [], verification: 'v' }),
  };
}
function verifyDeps(aws: SimulatedAws, accountId = MEMBER): VerifyTaskDeps {
  return {
    clients: aws.targetClients({ accountId }),
    responder: aws.targetClients({ accountId: aws.world.responderAccountId }),
    clock,
    limiters,
    baseline: { alternateContacts: {}, expectedOrganizationId: null },
    taskDetails: (id) => Promise.resolve({ id, kind: 'remediation', title: 'T', why: [], steps: [], verification: 'v' }),
  };
}
async function runAndVerify(aws: SimulatedAws, state: TaskItemState, accountId = MEMBER) {
  const action = await runApprovedAction(state, runDeps(aws, accountId));
  const verification = await verifyHumanTask({ ...state, action: { Payload: action } }, verifyDeps(aws, accountId));
  return { action, verification };
}

describe('the remediation registry', () => {
  it('holds every action a finding or the assessment can propose, and every file in its folder', () => {
    expect(REMEDIATION_ACTIONS.filter((a) => !remediationFor(a))).toEqual([]);
    const files = readdirSync(join(__dirname, '../../functions/shared/remediations')).filter((f) => !['index.ts', 'types.ts'].includes(f));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- every file of the folder, whatever it is named
    const sources = files.map((f) => require(join(__dirname, '../../functions/shared/remediations', f)) as Record<string, unknown>);
    const entries = sources.flatMap((m) =>
      Object.values(m).filter((v): v is Remediation => typeof v === 'object' && v !== null && 'run' in v),
    );
    expect(entries.map((e) => e.action).sort()).toEqual(REMEDIATIONS.map((r) => r.action).sort());
    // The catalog (what assess, request-approval and the roles read, without the code) is the same entries.
    expect(CATALOG.map((m) => JSON.stringify(m))).toEqual(
      REMEDIATIONS.map(({ action, runsIn, permissions, reversible, approvals }) =>
        JSON.stringify({ action, runsIn, permissions, reversible, approvals }),
      ),
    );
    for (const r of REMEDIATIONS) {
      expect(r.permissions.run.length + r.permissions.verify.length).toBeGreaterThan(0);
      expect(r.undoSteps({ accountId: MEMBER, target: 't', region: 'us-east-1' }).length).toBeGreaterThan(0);
    }
  });

  it('assess proposes only what the registry can run: every proposal of a busy member incident', () => {
    const records = [
      event('CreateUser', 'iam.amazonaws.com', { userName: 'mallory' }),
      event('PutAlternateContact', 'account.amazonaws.com', { alternateContactType: 'SECURITY' }),
      event('StopLogging', 'cloudtrail.amazonaws.com', { name: 'main' }),
      event('DeleteDetector', 'guardduty.amazonaws.com', { detectorId: 'd1' }),
      event('UpdateAssumeRolePolicy', 'iam.amazonaws.com', { roleName: 'deploy', policyDocument: '{}' }),
      event('CreateSAMLProvider', 'iam.amazonaws.com', { name: 'idp' }),
    ];
    const state: AssessInput = {
      incidentId: 'i',
      accountId: MEMBER,
      region: 'us-east-1',
      openedAt: '2024-03-04T10:00:00Z',
      source: 'cloudtrail',
      unparsed: false,
      trigger: {
        ...window([records[0]!]).findings[0]!,
        eventId: null,
        eventName: 'CreateUser',
        eventSource: 'iam',
        eventTime: null,
        accountId: MEMBER,
        sourceIPAddress: null,
        isRoot: true,
        benign: false,
        startsIncident: true,
        severity: 'critical',
        categories: ['iam-persistence'],
        reasons: [],
        parsed: true,
      } as never,
      settings: { approvalWaitSeconds: 60, maxReminders: 1 },
      snapshot: {
        Payload: rootSnapshot({
          method: 'assume-root-audit',
          unexpectedMfaDevices: ['arn:aws:iam::444455556666:mfa/x'],
          root: { passwordPresent: true, mfaEnabled: true },
        }),
      },
      containAndCollect: { Payload: { containment: containment(), evidence: evidenceCollection() } },
    };
    const a = assess(state, window(records));
    const proposed = a.plan.tasks.filter((t) => t.kind === 'remediation').map((t) => t.remediation!.action);
    expect(new Set(proposed)).toEqual(
      new Set([
        'quarantine-iam-user',
        'restore-alternate-contact',
        'restart-trail',
        'enable-guardduty-detector',
        'restore-trust-policy',
        'deactivate-root-mfa-device',
        'delete-root-password',
        'attach-deny-root-scp',
      ]),
    );
    expect(proposed.filter((p) => !remediationFor(p))).toEqual([]);
    // After approval by default (two responders); at once when the stage config says so.
    expect(a.plan.tasks.find((t) => t.id === 'attach-deny-root-scp')!.automatic).toBeUndefined();
    const auto = assess(state, window(records), { denyRootScp: 'automatic' });
    expect(auto.plan.tasks.filter((t) => t.automatic).map((t) => t.id)).toEqual(['attach-deny-root-scp']);
    expect(remediationFor('attach-deny-root-scp')!.approvals).toBe(2);
  });

  it('each entry calls only the IAM actions it declares, to run and to verify', async () => {
    const aws = org({
      iamUsers: [
        {
          UserName: 'mallory',
          CreateDate: '2024-03-04T10:00:00Z',
          accessKeys: [{ AccessKeyId: 'AKIAMALLORY000000001', Status: 'Active', CreateDate: '2024-03-04T10:00:00Z' }],
        },
      ],
      trails: [{ Name: 'main', HomeRegion: 'us-east-1', IsMultiRegionTrail: true, IsLogging: false }],
      detectors: { 'us-east-1': { DetectorId: 'd1', Status: 'DISABLED' } },
      roles: [{ RoleName: 'deploy', AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}' }],
    });
    const cases: [string, string][] = [
      ['quarantine-iam-user', 'mallory'],
      ['restart-trail', 'main'],
      ['enable-guardduty-detector', 'd1'],
      ['restore-trust-policy', 'deploy'],
      ['attach-deny-root-scp', MEMBER],
    ];
    for (const [action, target] of cases) {
      const entry = remediationFor(action)!;
      const before = aws.calls.length;
      const out = await runApprovedAction(item(action, target), runDeps(aws));
      const ran = aws.calls.slice(before).map((c) => COMMAND_ACTIONS[c.command]);
      expect({ action, ran: ran.filter((a) => !entry.permissions.run.includes(a!)) }).toEqual({ action, ran: [] });
      const mid = aws.calls.length;
      await verifyHumanTask({ ...item(action, target), action: { Payload: out } }, verifyDeps(aws));
      const checked = aws.calls.slice(mid).map((c) => COMMAND_ACTIONS[c.command]);
      expect({ action, checked: checked.filter((a) => !entry.permissions.verify.includes(a!)) }).toEqual({ action, checked: [] });
    }
  });
});

describe('quarantine', () => {
  const created = event('CreateUser', 'iam.amazonaws.com', { userName: 'mallory' });
  it('is proposed only for users root created during the incident, with successful calls', () => {
    const found = window([
      created,
      event('TagUser', 'iam.amazonaws.com', { userName: 'break-glass-2019', tags: [{ key: 'owner', value: 'x' }] }),
      event(
        'AttachUserPolicy',
        'iam.amazonaws.com',
        { userName: 'ops', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
        { errorCode: 'AccessDenied' },
      ),
      event('CreateUser', 'iam.amazonaws.com', { userName: 'never-made' }, { errorCode: 'EntityAlreadyExists' }),
    ]);
    expect(found.remediations.map((r) => `${r.action} ${r.target}`)).toEqual(['quarantine-iam-user mallory']);
    const byId = Object.fromEntries(found.findings.map((f) => [f.id, f]));
    expect(byId['iam-user-break-glass-2019']).toMatchObject({ severity: 'critical', title: 'Root changed IAM user `break-glass-2019`' });
    expect(byId['iam-user-break-glass-2019']!.detail).toMatch(/existed before the incident: it is not quarantined automatically/);
    expect(byId['iam-user-ops']).toMatchObject({ severity: 'high', title: 'Root tried to change IAM user `ops` (every attempt failed)' });
    expect(byId['iam-user-never-made']!.title).toMatch(/every attempt failed/);
    expect(found.remediations[0]!.undo).toMatch(/console password is kept\. Reversible: delete the policy and reactivate the keys/);
  });

  it('keeps the console password and reports the exact commands that undo it', async () => {
    const aws = org({
      iamUsers: [
        {
          UserName: 'mallory',
          CreateDate: '2024-03-04T10:00:00Z',
          loginProfile: true,
          accessKeys: [{ AccessKeyId: 'AKIAMALLORY000000001', Status: 'Active', CreateDate: '2024-03-04T10:00:00Z' }],
        },
      ],
    });
    const { action, verification } = await runAndVerify(aws, item('quarantine-iam-user', 'mallory'));
    expect(action.status).toBe('done');
    expect(aws.world.accounts[MEMBER]!.iamUsers[0]!.loginProfile).toBe(true);
    expect(aws.changes.map((c) => c.change).sort()).toEqual(['access-key-inactive', 'put-user-policy']);
    expect(action.undo).toEqual([
      'aws iam delete-user-policy --user-name mallory --policy-name root-responder-quarantine',
      'aws iam update-access-key --user-name mallory --access-key-id AKIAMALLORY000000001 --status Active',
    ]);
    expect(verification.verified).toBe(true);
  });
});

describe('the deny-all-root SCP', () => {
  it('denies every action by the account root, unless aws:AssumedRoot is set (AssumeRoot sessions)', () => {
    expect(JSON.parse(denyRootScpDocument(MEMBER))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'RootResponderDenyRoot',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${MEMBER}:root` }, Null: { 'aws:AssumedRoot': 'true' } },
        },
      ],
    });
  });

  it('is created once, attached from the management account, verified by ListPoliciesForTarget and detached again', async () => {
    const aws = org();
    const { action, verification } = await runAndVerify(aws, item('attach-deny-root-scp', MEMBER));
    expect(action).toMatchObject({ status: 'done' });
    expect(action.detail).toMatch(/^Attached: SCP root-responder-deny-root-444455556666 \(p-[0-9a-f]+\)/);
    expect(action.undo[0]).toMatch(/^aws organizations detach-policy --policy-id p-[0-9a-f]+ --target-id 444455556666/);
    expect(verification).toMatchObject({
      verified: true,
      reason: `ListPoliciesForTarget: ${denyRootScpName(MEMBER)} is attached to ${MEMBER}`,
    });
    expect(aws.calls.filter((c) => c.command.includes('Polic')).every((c) => c.accountId === MGMT)).toBe(true);
    // Again: nothing changes twice.
    const again = await runApprovedAction(item('attach-deny-root-scp', MEMBER), runDeps(aws));
    expect(again.detail).toMatch(/^Already attached/);
    expect(aws.changes.map((c) => c.change)).toEqual(['create-scp', 'attach-scp']);
    expect(await detachDenyRootScp(aws.targetClients({ accountId: MGMT }), MEMBER)).toMatchObject({ status: 'done' });
    expect(aws.world.organization!.attachments![MEMBER]).toEqual([]);
    const after = await verifyHumanTask({ ...item('attach-deny-root-scp', MEMBER), action: { Payload: action } }, verifyDeps(aws));
    expect(after.verified).toBe(false);
    expect((await detachDenyRootScp(aws.targetClients({ accountId: MGMT }), MEMBER)).detail).toMatch(/is not attached/);
  });

  it('is skipped where SCPs do not apply (the management account, a standalone account)', async () => {
    const aws = org();
    const out = await runApprovedAction(item('attach-deny-root-scp', MGMT, 'us-east-1', MGMT), runDeps(aws, MGMT, false));
    expect(out).toMatchObject({ status: 'skipped' });
    expect(aws.calls).toEqual([]);
  });
});

describe('GuardDuty re-enable', () => {
  it('enables a detector root disabled, verified by GetDetector', async () => {
    const aws = org({ detectors: { 'eu-west-1': { DetectorId: 'd1', Status: 'DISABLED' } } });
    const { action, verification } = await runAndVerify(aws, item('enable-guardduty-detector', 'd1', 'eu-west-1'));
    expect(action).toMatchObject({
      status: 'done',
      undo: ['aws guardduty update-detector --detector-id d1 --no-enable --region eu-west-1'],
    });
    expect(aws.world.accounts[MEMBER]!.detectors['eu-west-1']!.Status).toBe('ENABLED');
    expect(verification).toMatchObject({ verified: true });
  });

  it('creates a detector where root deleted it', async () => {
    const aws = org();
    const { action, verification } = await runAndVerify(aws, item('enable-guardduty-detector', 'd1', 'eu-west-1'));
    const created = aws.world.accounts[MEMBER]!.detectors['eu-west-1']!;
    expect(created.Status).toBe('ENABLED');
    expect(action.undo).toEqual([`aws guardduty delete-detector --detector-id ${created.DetectorId} --region eu-west-1`]);
    expect(verification.verified).toBe(true);
  });

  it('is proposed only for what turned GuardDuty off', () => {
    const found = window([
      event('UpdateDetector', 'guardduty.amazonaws.com', { detectorId: 'd1', enable: false }),
      event('ArchiveFindings', 'guardduty.amazonaws.com', { detectorId: 'd1', findingIds: ['f'] }),
    ]);
    expect(found.remediations.map((r) => r.action)).toEqual(['enable-guardduty-detector']);
  });
});

describe('trust-policy restore', () => {
  const original =
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}';
  const hostile =
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::666666666666:root"},"Action":"sts:AssumeRole"}]}';
  const createRole = event(
    'CreateRole',
    'iam.amazonaws.com',
    { roleName: 'deploy', assumeRolePolicyDocument: original },
    {
      eventTime: '2024-02-01T09:00:00Z',
      userIdentity: iamUser(MEMBER, 'alice'),
    },
  );
  const rootChange = event('UpdateAssumeRolePolicy', 'iam.amazonaws.com', { roleName: 'deploy', policyDocument: hostile });

  it('puts back the document CloudTrail recorded before root changed it, verified by GetRole', async () => {
    const aws = org({
      roles: [{ RoleName: 'deploy', AssumeRolePolicyDocument: hostile }],
      events: { 'us-east-1': [createRole, rootChange] },
    });
    const { action, verification } = await runAndVerify(aws, item('restore-trust-policy', 'deploy'));
    expect(action.status).toBe('done');
    expect(aws.world.accounts[MEMBER]!.roles![0]!.AssumeRolePolicyDocument).toBe(original);
    expect(action.undo[0]).toContain('666666666666');
    expect(verification).toMatchObject({ verified: true });
  });

  it('without an earlier record changes nothing and leaves the task to a person, showing the document', async () => {
    const aws = org({ roles: [{ RoleName: 'deploy', AssumeRolePolicyDocument: hostile }], events: { 'us-east-1': [rootChange] } });
    const { action, verification } = await runAndVerify(aws, item('restore-trust-policy', 'deploy'));
    expect(action.status).toBe('skipped');
    expect(action.detail).toMatch(/holds no trust policy of role deploy from before root changed it/);
    expect(action.detail).toContain('arn:aws:iam::666666666666:root');
    expect(aws.changes).toEqual([]);
    expect(verification.verified).toBeNull();
  });
});

describe('the simulated account applies an attached SCP', () => {
  it('the deny-root SCP refuses the account root, never an AssumeRoot session or a role', () => {
    const doc = denyRootScpDocument(MEMBER);
    expect(scpDenies(doc, 'iam:CreateUser', { 'aws:PrincipalArn': `arn:aws:iam::${MEMBER}:root` })).toBe(true);
    expect(scpDenies(doc, 'iam:DeleteLoginProfile', { 'aws:PrincipalArn': `arn:aws:iam::${MEMBER}:root`, 'aws:AssumedRoot': 'true' })).toBe(
      false,
    );
    expect(scpDenies(doc, 'iam:CreateUser', { 'aws:PrincipalArn': `arn:aws:iam::${MEMBER}:role/root-responder-remediate` })).toBe(false);
    expect(scpDenies(doc, 'iam:CreateUser', { 'aws:PrincipalArn': `arn:aws:iam::111111111111:root` })).toBe(false);
  });

  it('with the SCP attached, the AssumeRoot delete session still deletes the root password', async () => {
    const aws = org();
    await runApprovedAction(item('attach-deny-root-scp', MEMBER), runDeps(aws));
    const out = await runApprovedAction(item('delete-root-password', MEMBER), runDeps(aws));
    expect(out).toMatchObject({ status: 'done' });
    expect(aws.world.accounts[MEMBER]!.root.password).toBe(false);
  });
});

describe('EC2 exposure undos', () => {
  const ami = event('ModifyImageAttribute', 'ec2.amazonaws.com', {
    imageId: 'ami-0a1b2c3d4e5f67890',
    launchPermission: { add: { items: [{ group: 'all' }, { userId: '111122223333' }] } },
    attributeType: 'launchPermission',
  });
  const sg = event(
    'AuthorizeSecurityGroupIngress',
    'ec2.amazonaws.com',
    {
      groupId: 'sg-07ebc4087aa0b2a81',
      ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipv6Ranges: { items: [{ cidrIpv6: '::/0' }] } }] },
    },
    {
      responseElements: {
        _return: true,
        securityGroupRuleSet: {
          items: [
            {
              groupId: 'sg-07ebc4087aa0b2a81',
              securityGroupRuleId: 'sgr-0b1c2d3e4f5a6b7c8',
              isEgress: false,
              ipProtocol: 'tcp',
              fromPort: 22,
              toPort: 22,
              cidrIpv6: '::/0',
            },
          ],
        },
      },
    },
  );
  const sgNoIds = event('AuthorizeSecurityGroupIngress', 'ec2.amazonaws.com', {
    groupId: 'sg-0aaa',
    ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 3389, toPort: 3389, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } }] },
  });
  const run = event(
    'RunInstances',
    'ec2.amazonaws.com',
    { instanceType: 'p2.8xlarge', instancesSet: { items: [{ imageId: 'ami-1', minCount: 1, maxCount: 1 }] } },
    { responseElements: { instancesSet: { items: [{ instanceId: 'i-05261ffb46217cdc3', instanceType: 'p2.8xlarge' }] } } },
  );
  const snap = event('ModifySnapshotAttribute', 'ec2.amazonaws.com', {
    snapshotId: 'snap-0123456789abcdef0',
    attributeType: 'CREATE_VOLUME_PERMISSION',
    createVolumePermission: { add: { items: [{ userId: '111122223333' }] } },
  });
  const records = [ami, sg, sgNoIds, run, snap];

  it('are proposed for each exposure root made, with exactly the change as target, and the finding says proposed', () => {
    const found = window(records);
    expect(found.remediations.map((r) => [r.action, r.target, r.region])).toEqual([
      ['remove-launch-permission', 'ami-0a1b2c3d4e5f67890 all,111122223333', 'us-east-1'],
      ['revoke-security-group-ingress', 'sg-07ebc4087aa0b2a81 sgr-0b1c2d3e4f5a6b7c8', 'us-east-1'],
      ['revoke-security-group-ingress', 'sg-0aaa tcp/3389:3389/0.0.0.0/0', 'us-east-1'],
      ['remove-snapshot-share', 'snap-0123456789abcdef0 111122223333', 'us-east-1'],
      ['stop-instances', 'i-05261ffb46217cdc3', 'us-east-1'],
    ]);
    const statuses = found.findings.filter((f) => f.exposure).map((f) => [f.exposure!.undo.kind, f.exposure!.undo.status]);
    expect(statuses).toEqual(
      expect.arrayContaining([
        ['stop-instances', 'proposed'],
        ['remove-launch-permission', 'proposed'],
      ]),
    );
    // A failed call exposed nothing: no undo proposed.
    const failed = window([{ ...ami, errorCode: 'AuthFailure' }]);
    expect(failed.remediations).toEqual([]);
    // Assess offers them as approval tasks.
    const state = {
      incidentId: 'i',
      accountId: MEMBER,
      region: 'us-east-1',
      openedAt: '2024-03-04T10:00:00Z',
      source: 'cloudtrail',
      unparsed: false,
      trigger: {
        eventId: null,
        eventName: 'ModifyImageAttribute',
        eventSource: 'ec2',
        eventTime: null,
        accountId: MEMBER,
        sourceIPAddress: null,
        isRoot: true,
        benign: false,
        startsIncident: true,
        severity: 'critical',
        categories: ['exposure'],
        reasons: [],
        parsed: true,
      },
      settings: { approvalWaitSeconds: 60, maxReminders: 1 },
      snapshot: { Payload: rootSnapshot() },
      containAndCollect: { Payload: { containment: containment(), evidence: evidenceCollection() } },
    } as unknown as AssessInput;
    const tasks = assess(state, found)
      .plan.tasks.filter((t) => t.kind === 'remediation')
      .map((t) => t.remediation!.action);
    expect(tasks).toEqual(expect.arrayContaining(['remove-launch-permission', 'revoke-security-group-ingress', 'stop-instances']));
  });

  it('revoke-security-group-ingress revokes the rule by its id, verified by DescribeSecurityGroupRules; undo authorizes it again', async () => {
    const aws = org({ events: { 'us-east-1': records } });
    const { action, verification } = await runAndVerify(
      aws,
      item('revoke-security-group-ingress', 'sg-07ebc4087aa0b2a81 sgr-0b1c2d3e4f5a6b7c8'),
    );
    expect(action).toMatchObject({
      status: 'done',
      undo: [
        "aws ec2 authorize-security-group-ingress --group-id sg-07ebc4087aa0b2a81 --ip-permissions 'IpProtocol=tcp,FromPort=22,ToPort=22,Ipv6Ranges=[{CidrIpv6=::/0}]' --region us-east-1",
      ],
    });
    expect(aws.calls.filter((c) => c.command === 'RevokeSecurityGroupIngressCommand').map((c) => c.input)).toEqual([
      { GroupId: 'sg-07ebc4087aa0b2a81', SecurityGroupRuleIds: ['sgr-0b1c2d3e4f5a6b7c8'] },
    ]);
    expect(aws.ec2State(MEMBER, 'us-east-1').securityGroups['sg-07ebc4087aa0b2a81']!.rules).toEqual([]);
    expect(verification).toMatchObject({ verified: true });
    // A second run changes nothing and says so.
    const again = await runApprovedAction(
      item('revoke-security-group-ingress', 'sg-07ebc4087aa0b2a81 sgr-0b1c2d3e4f5a6b7c8'),
      runDeps(aws),
    );
    expect(again.detail).toMatch(/nothing to revoke/);
  });

  it('revoke-security-group-ingress finds the rule by its range when the event recorded no rule id', async () => {
    const aws = org({ events: { 'us-east-1': records } });
    const open = await remediationFor('revoke-security-group-ingress')!.verify({
      ...verifyDeps(aws),
      responder: aws.targetClients({ accountId: MGMT }),
      accountId: MEMBER,
      target: 'sg-0aaa tcp/3389:3389/0.0.0.0/0',
      region: 'us-east-1',
      ran: { detail: '' },
    });
    expect(open).toEqual({
      verified: false,
      reason: 'DescribeSecurityGroupRules: security group sg-0aaa in us-east-1 still allows TCP port 3389 from 0.0.0.0/0',
    });
    const { action, verification } = await runAndVerify(aws, item('revoke-security-group-ingress', 'sg-0aaa tcp/3389:3389/0.0.0.0/0'));
    expect(action.detail).toMatch(/TCP port 3389 from 0\.0\.0\.0\/0/);
    expect(verification).toMatchObject({ verified: true });
  });

  it('remove-launch-permission removes the same grantees, verified by DescribeImageAttribute', async () => {
    const aws = org({ events: { 'us-east-1': records } });
    const { action, verification } = await runAndVerify(aws, item('remove-launch-permission', 'ami-0a1b2c3d4e5f67890 all,111122223333'));
    expect(aws.calls.filter((c) => c.command === 'ModifyImageAttributeCommand').map((c) => c.input)).toEqual([
      { ImageId: 'ami-0a1b2c3d4e5f67890', LaunchPermission: { Remove: [{ Group: 'all' }, { UserId: '111122223333' }] } },
    ]);
    expect(aws.ec2State(MEMBER, 'us-east-1').images['ami-0a1b2c3d4e5f67890']!.launchPermissions).toEqual([]);
    expect(action.undo).toEqual([
      "aws ec2 modify-image-attribute --image-id ami-0a1b2c3d4e5f67890 --launch-permission 'Add=[{Group=all},{UserId=111122223333}]' --region us-east-1",
    ]);
    expect(verification).toMatchObject({ verified: true });
  });

  it('stop-instances stops (never terminates) the instances, verified by DescribeInstances; undo starts them', async () => {
    const aws = org({ events: { 'us-east-1': records } });
    const { action, verification } = await runAndVerify(aws, item('stop-instances', 'i-05261ffb46217cdc3'));
    expect(aws.calls.map((c) => c.command)).not.toContain('TerminateInstancesCommand');
    expect(aws.ec2State(MEMBER, 'us-east-1').instances['i-05261ffb46217cdc3']!.State).toBe('stopped');
    expect(action.undo).toEqual(['aws ec2 start-instances --instance-ids i-05261ffb46217cdc3 --region us-east-1']);
    expect(verification).toMatchObject({ verified: true });
  });

  it('each calls only the EC2 actions it declares', async () => {
    const aws = org({ events: { 'us-east-1': records } });
    for (const [action, target] of [
      ['revoke-security-group-ingress', 'sg-07ebc4087aa0b2a81 sgr-0b1c2d3e4f5a6b7c8'],
      ['remove-launch-permission', 'ami-0a1b2c3d4e5f67890 all'],
      ['stop-instances', 'i-05261ffb46217cdc3'],
    ] as const) {
      const entry = remediationFor(action)!;
      const before = aws.calls.length;
      const out = await runApprovedAction(item(action, target), runDeps(aws));
      expect(aws.calls.slice(before).filter((c) => !entry.permissions.run.includes(COMMAND_ACTIONS[c.command]!))).toEqual([]);
      const mid = aws.calls.length;
      await verifyHumanTask({ ...item(action, target), action: { Payload: out } }, verifyDeps(aws));
      expect(aws.calls.slice(mid).filter((c) => !entry.permissions.verify.includes(COMMAND_ACTIONS[c.command]!))).toEqual([]);
    }
  });
});
