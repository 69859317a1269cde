import { expect } from '@jest/globals';
import { KMSClient, KMSServiceException, ListGrantsCommand, NotFoundException, RevokeGrantCommand } from '@aws-sdk/client-kms';
import {
  GetFunctionUrlConfigCommand,
  GetPolicyCommand,
  LambdaClient,
  RemovePermissionCommand,
  ResourceNotFoundException,
  UpdateFunctionUrlConfigCommand,
} from '@aws-sdk/client-lambda';
import {
  DisassociateResourceShareCommand,
  GetResourceShareAssociationsCommand,
  RAMClient,
  UnknownResourceException,
} from '@aws-sdk/client-ram';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '#shared/clock';
import type { JsonObject } from '#shared/cloudtrail';
import { AccessDeniedError } from '#shared/errors';
import { classifyWindow, type WindowEvent } from '#shared/findings';
import { defaultTriageContext } from '#shared/triage';
import { RateLimiters, virtualTimer } from '#shared/rate-limit';
import { remediationFor } from '#shared/remediations/index';
import { disassociateResourceShare, removeLambdaPermission, requireFunctionUrlAuth, revokeKmsGrant } from '#shared/remediations/grants';
import type { RunContext, VerifyContext } from '#shared/remediations/types';
import { runApprovedAction, type RunActionDeps } from '#functions/run-approved-action/run-approved-action';
import { verifyHumanTask, type VerifyTaskDeps } from '#functions/verify-human-task/verify-human-task';
import type { TaskItemState } from '#shared/contracts/task-item';
import { COMMAND_ACTIONS, SimulatedAws } from '#drill/simulated-aws';
import { fixture } from '../helpers';
import { sdkTargetClients } from '../helpers-mock';
import { simAccount, world } from '../helpers-sim';

/**
 * The grant and permission undos: a KMS grant revoked, a Lambda resource-policy statement removed, a
 * function URL with auth type NONE made to require IAM auth, the outside principals removed from a
 * RAM share. Records written from the documented CloudTrail shapes
 * (tests/fixtures/written/data_exposure_grants__written.json, account 123456789012, the foreign
 * account 444455556666); run against the simulated account (built from those records) and against
 * the SDK's own clients, mocked, for the error names each service raises.
 */
const ACCOUNT = '123456789012';
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/7f3e2d1c-0b9a-4c8d-9e7f-6a5b4c3d2e1f';
const GRANT = '3b2d9f0c1e7a4d8b6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c';
const SHARE = 'arn:aws:ram:eu-west-1:123456789012:resource-share/5c1d7e3a-2b4f-4a6c-8d9e-0f1a2b3c4d5e';
const records = fixture<JsonObject[]>('written/data_exposure_grants__written.json');
const clock = fixedClock('2019-01-01T01:00:00Z');
const limiters = new RateLimiters(2, virtualTimer());

const window = (list: JsonObject[], organizationAccounts?: string[]) =>
  classifyWindow(
    list.map((record): WindowEvent => ({ region: String(record['awsRegion']), record, query: 'root' })),
    {
      ...defaultTriageContext(),
      exposure: { accountId: ACCOUNT, ...(organizationAccounts ? { organizationAccounts: new Set(organizationAccounts) } : {}) },
    },
  );

describe('grant and permission exposures are proposed for undo, each exactly what its event recorded', () => {
  it('the four records: the grant by its id on the key ARN, the statement by its id, the URL, the share without the own account', () => {
    const found = window(records);
    expect(found.remediations.map((r) => [r.action, r.target, r.region])).toEqual([
      ['revoke-kms-grant', `${KEY} ${GRANT}`, 'us-east-1'],
      ['require-function-url-auth', 'invoice-export', 'us-east-1'],
      ['remove-lambda-permission', 'invoice-export FunctionURLAllowPublicAccess * lambda:InvokeFunctionUrl NONE', 'us-east-1'],
      ['disassociate-resource-share', `${SHARE} 444455556666`, 'eu-west-1'],
    ]);
    const exposures = found.findings.filter((f) => f.exposure).map((f) => [f.title, f.exposure!.undo]);
    expect(exposures).toEqual([
      [
        `KMS key ${KEY} grant ${GRANT} (Decrypt, GenerateDataKey, DescribeKey) created to account 444455556666 outside this account in us-east-1`,
        { kind: 'revoke-kms-grant', reversible: false, status: 'proposed' },
      ],
      [
        'Lambda function invoice-export given a function URL with auth type NONE to everyone (*) in us-east-1',
        { kind: 'require-function-url-auth', reversible: true, status: 'proposed' },
      ],
      [
        'Lambda function invoice-export resource policy allows lambda:InvokeFunctionUrl to everyone (*) in us-east-1',
        { kind: 'remove-lambda-permission', reversible: true, status: 'proposed' },
      ],
      [
        `Resource share ${SHARE} (1 resource(s)) shared to account 444455556666 outside this account in eu-west-1`,
        { kind: 'disassociate-resource-share', reversible: true, status: 'proposed' },
      ],
    ]);
    // The approval page says what is undone and whether it can be put back.
    expect(found.remediations[0]!.undo).toMatch(/^Revoke the KMS grant root created: .* \(not reversible\)/);
  });

  it('a share to an account inside the organization and one outside: only the outside one is removed', () => {
    const [, , , share] = records;
    const both = structuredClone(share!);
    (both['requestParameters'] as JsonObject)['principals'] = ['444455556666', '555566667777'];
    expect(window([both], ['555566667777']).remediations.map((r) => r.target)).toEqual([`${SHARE} 444455556666`]);
  });

  it('what the event did not record, or a version or alias (qualifier), is left to a person', () => {
    const [grant, url, permission] = records;
    const noId = structuredClone(grant!);
    noId['responseElements'] = null;
    const qualified = structuredClone(permission!);
    (qualified['requestParameters'] as JsonObject)['qualifier'] = 'prod';
    const qualifiedUrl = structuredClone(url!);
    (qualifiedUrl['requestParameters'] as JsonObject)['qualifier'] = 'prod';
    const found = window([noId, qualified, qualifiedUrl]);
    expect(found.remediations).toEqual([]);
    expect(found.findings.filter((f) => f.exposure).map((f) => f.exposure!.undo.status)).toEqual([
      'not-implemented',
      'not-implemented',
      'not-implemented',
    ]);
    // A failed call exposed nothing: no undo.
    expect(window([{ ...grant!, errorCode: 'AccessDeniedException' }]).remediations).toEqual([]);
  });
});

// ---------- against the simulated account, built from the records ----------

function sim() {
  return new SimulatedAws(
    world([simAccount(ACCOUNT, { events: { 'us-east-1': records.slice(0, 3), 'eu-west-1': records.slice(3) } })], {
      responderAccountId: ACCOUNT,
    }),
    virtualTimer(),
  );
}
const item = (action: string, target: string, region = 'us-east-1'): TaskItemState => ({
  Payload: {
    input: {
      incidentId: 'i',
      accountId: ACCOUNT,
      severity: 'critical',
      task: { id: action, kind: 'remediation', remediation: { action, target, region } },
      waitSeconds: 60,
      reminders: 0,
      maxReminders: 1,
    },
  },
});
const details = (id: string) => Promise.resolve({ id, kind: 'remediation' as const, title: 'T', why: [], steps: [], verification: 'v' });
const runDeps = (aws: SimulatedAws): RunActionDeps => ({
  clients: aws.targetClients({ accountId: ACCOUNT }),
  responder: aws.targetClients({ accountId: ACCOUNT }),
  member: false,
  clock,
  baseline: { alternateContacts: {} },
  limiters,
  taskDetails: details,
});
const verifyDeps = (aws: SimulatedAws): VerifyTaskDeps => ({
  clients: aws.targetClients({ accountId: ACCOUNT }),
  responder: aws.targetClients({ accountId: ACCOUNT }),
  clock,
  limiters,
  baseline: { alternateContacts: {}, expectedOrganizationId: null },
  taskDetails: details,
});
async function runAndVerify(aws: SimulatedAws, state: TaskItemState) {
  const before = aws.calls.length;
  const action = await runApprovedAction(state, runDeps(aws));
  const ran = aws.calls.slice(before);
  const mid = aws.calls.length;
  const verification = await verifyHumanTask({ ...state, action: { Payload: action } }, verifyDeps(aws));
  return { action, verification, ran, verified: aws.calls.slice(mid) };
}
const declared = (action: string, phase: 'run' | 'verify', calls: { command: string }[]) =>
  calls.filter((c) => !remediationFor(action)!.permissions[phase].includes(COMMAND_ACTIONS[c.command]!));

describe('the grant undos on the simulated account', () => {
  const urlTarget = 'invoice-export';
  const permissionTarget = 'invoice-export FunctionURLAllowPublicAccess * lambda:InvokeFunctionUrl NONE';

  it('revoke-kms-grant revokes the grant by its id, verified by ListGrants; the undo creates an equivalent (new) grant', async () => {
    const aws = sim();
    const target = `${KEY} ${GRANT}`;
    expect(
      await revokeKmsGrant.verify({
        ...verifyDeps(aws),
        responder: aws.targetClients({ accountId: ACCOUNT }),
        accountId: ACCOUNT,
        target,
        region: 'us-east-1',
        ran: { detail: '' },
      }),
    ).toEqual({
      verified: false,
      reason: `ListGrants: KMS key ${KEY} in us-east-1 still has grant ${GRANT} for arn:aws:iam::444455556666:root`,
    });
    const { action, verification, ran, verified } = await runAndVerify(aws, item('revoke-kms-grant', target));
    expect(ran.filter((c) => c.command === 'RevokeGrantCommand').map((c) => c.input)).toEqual([{ KeyId: KEY, GrantId: GRANT }]);
    expect(action).toMatchObject({
      status: 'done',
      undo: [
        `aws kms create-grant --key-id ${KEY} --grantee-principal arn:aws:iam::444455556666:root --operations Decrypt GenerateDataKey DescribeKey --region us-east-1`,
      ],
    });
    expect(action.detail).toMatch(/Not reversible: a new grant gets a new id and token/);
    expect(verification).toMatchObject({ verified: true });
    expect(aws.grantsState(ACCOUNT, 'us-east-1').kmsGrants).toEqual({});
    expect([...declared('revoke-kms-grant', 'run', ran), ...declared('revoke-kms-grant', 'verify', verified)]).toEqual([]);
    // A second run changes nothing and says so.
    expect((await runApprovedAction(item('revoke-kms-grant', target), runDeps(aws))).detail).toMatch(/nothing to revoke/);
  });

  it('remove-lambda-permission removes the statement by its id, verified by GetPolicy (no policy left: ResourceNotFoundException)', async () => {
    const aws = sim();
    const { action, verification, ran, verified } = await runAndVerify(aws, item('remove-lambda-permission', permissionTarget));
    expect(ran.filter((c) => c.command === 'RemovePermissionCommand').map((c) => c.input)).toEqual([
      { FunctionName: 'invoice-export', StatementId: 'FunctionURLAllowPublicAccess' },
    ]);
    expect(action.undo).toEqual([
      "aws lambda add-permission --function-name invoice-export --statement-id FunctionURLAllowPublicAccess --action lambda:InvokeFunctionUrl --principal '*' --function-url-auth-type NONE --region us-east-1",
    ]);
    expect(verification).toMatchObject({
      verified: true,
      reason: 'GetPolicy: Lambda function invoice-export in us-east-1 has no resource policy (ResourceNotFoundException)',
    });
    expect(verified.map((c) => [c.command, c.error])).toEqual([['GetPolicyCommand', 'ResourceNotFoundException']]);
    expect([...declared('remove-lambda-permission', 'run', ran), ...declared('remove-lambda-permission', 'verify', verified)]).toEqual([]);
    expect((await runApprovedAction(item('remove-lambda-permission', permissionTarget), runDeps(aws))).detail).toMatch(/nothing to remove/);
  });

  it('require-function-url-auth sets AuthType AWS_IAM (the URL is kept), verified by GetFunctionUrlConfig; undo sets NONE again', async () => {
    const aws = sim();
    const { action, verification, ran, verified } = await runAndVerify(aws, item('require-function-url-auth', urlTarget));
    expect(ran.filter((c) => c.command === 'UpdateFunctionUrlConfigCommand').map((c) => c.input)).toEqual([
      { FunctionName: 'invoice-export', AuthType: 'AWS_IAM' },
    ]);
    expect(aws.grantsState(ACCOUNT, 'us-east-1').functions['invoice-export']!.url).toEqual({
      FunctionUrl: 'https://k3x7m2q9w4e8r1t5y6u0i3o7p2a4s6d8.lambda-url.us-east-1.on.aws/',
      AuthType: 'AWS_IAM',
    });
    expect(action.undo).toEqual([
      'aws lambda update-function-url-config --function-name invoice-export --auth-type NONE --region us-east-1',
    ]);
    expect(verification).toMatchObject({
      verified: true,
      reason: 'GetFunctionUrlConfig: the function URL of invoice-export in us-east-1 requires AWS_IAM',
    });
    expect(aws.calls.map((c) => c.command)).not.toContain('DeleteFunctionUrlConfigCommand');
    expect([...declared('require-function-url-auth', 'run', ran), ...declared('require-function-url-auth', 'verify', verified)]).toEqual(
      [],
    );
    expect((await runApprovedAction(item('require-function-url-auth', urlTarget), runDeps(aws))).detail).toMatch(
      /already requires IAM auth/,
    );
  });

  it('disassociate-resource-share removes exactly the outside principals, verified by GetResourceShareAssociations', async () => {
    const aws = sim();
    const target = `${SHARE} 444455556666`;
    const { action, verification, ran, verified } = await runAndVerify(aws, item('disassociate-resource-share', target, 'eu-west-1'));
    expect(ran.filter((c) => c.command === 'DisassociateResourceShareCommand').map((c) => c.input)).toEqual([
      { resourceShareArn: SHARE, principals: ['444455556666'] },
    ]);
    expect(action.undo).toEqual([
      `aws ram associate-resource-share --resource-share-arn ${SHARE} --principals 444455556666 --region eu-west-1`,
    ]);
    expect(aws.grantsState(ACCOUNT, 'eu-west-1').shares[SHARE]!.principals).toEqual({ '444455556666': 'DISASSOCIATED' });
    expect(verification).toMatchObject({ verified: true });
    expect([
      ...declared('disassociate-resource-share', 'run', ran),
      ...declared('disassociate-resource-share', 'verify', verified),
    ]).toEqual([]);
  });

  it('the simulated services answer with their own error names', async () => {
    const aws = sim();
    const c = aws.targetClients({ accountId: ACCOUNT });
    await expect(c.kms('us-east-1').send(new RevokeGrantCommand({ KeyId: KEY, GrantId: 'nope' }))).rejects.toBeInstanceOf(
      NotFoundException,
    );
    await expect(c.kms('us-east-1').send(new ListGrantsCommand({ KeyId: 'unknown-key' }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(c.lambda('us-east-1').send(new GetPolicyCommand({ FunctionName: 'nope' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await expect(
      c.lambda('us-east-1').send(new RemovePermissionCommand({ FunctionName: 'invoice-export', StatementId: 'nope' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      c.ram('eu-west-1').send(new GetResourceShareAssociationsCommand({ associationType: 'PRINCIPAL', resourceShareArns: [`${SHARE}x`] })),
    ).rejects.toBeInstanceOf(UnknownResourceException);
  });
});

// ---------- against the SDK's own clients, mocked ----------

const kms = mockClient(KMSClient);
const lambda = mockClient(LambdaClient);
const ram = mockClient(RAMClient);
const clients = sdkTargetClients();
const base = {
  accountId: ACCOUNT,
  region: 'us-east-1',
  clients,
  responder: clients,
  clock,
  baseline: { alternateContacts: {} },
  limiters,
};
const runCtx = (target: string, region = 'us-east-1'): RunContext => ({
  ...base,
  region,
  target,
  member: false,
  rootSession: () => Promise.reject(new Error('no root session here')),
});
const verifyCtx = (target: string, region = 'us-east-1'): VerifyContext => ({ ...base, region, target, ran: { detail: '' } });
const $metadata = { httpStatusCode: 400 };

describe('the grant undos against the SDK clients (mocked)', () => {
  beforeEach(() => {
    kms.reset();
    lambda.reset();
    ram.reset();
  });

  it('revoke-kms-grant: a grant revoked meanwhile (NotFoundException) is not a failure; access denied is typed, never "done"', async () => {
    kms
      .on(ListGrantsCommand)
      .resolves({ Grants: [{ GrantId: 'g1', KeyId: KEY, GranteePrincipal: 'arn:aws:iam::444455556666:root', Operations: ['Decrypt'] }] });
    kms.on(RevokeGrantCommand).rejects(new NotFoundException({ message: 'Grant ID g1 not found', $metadata }));
    expect(await revokeKmsGrant.run(runCtx(`${KEY} g1`))).toMatchObject({ status: 'done' });
    kms
      .on(RevokeGrantCommand)
      .rejects(new KMSServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata, message: 'denied' }));
    await expect(revokeKmsGrant.run(runCtx(`${KEY} g1`))).rejects.toBeInstanceOf(AccessDeniedError);
    // The key itself gone: verified (ListGrants NotFoundException).
    kms.on(ListGrantsCommand).rejects(new NotFoundException({ message: 'Key does not exist', $metadata }));
    expect((await revokeKmsGrant.verify(verifyCtx(`${KEY} g1`))).verified).toBe(true);
  });

  it('remove-lambda-permission: verify reads the statement ids of the policy GetPolicy returns', async () => {
    const policy = (sids: string[]) =>
      JSON.stringify({ Version: '2012-10-17', Statement: sids.map((Sid) => ({ Sid, Effect: 'Allow', Principal: '*' })) });
    lambda
      .on(GetPolicyCommand)
      .resolvesOnce({ Policy: policy(['keep', 'open']) })
      .resolves({ Policy: policy(['keep']) });
    const target = 'f open * lambda:InvokeFunction';
    expect(await removeLambdaPermission.verify(verifyCtx(target))).toEqual({
      verified: false,
      reason: 'GetPolicy: Lambda function f in us-east-1 still has statement open',
    });
    expect((await removeLambdaPermission.verify(verifyCtx(target))).verified).toBe(true);
    lambda.on(GetPolicyCommand).resolves({ Policy: policy(['open']) });
    lambda.on(RemovePermissionCommand).rejects(new ResourceNotFoundException({ message: 'gone', $metadata }));
    expect(await removeLambdaPermission.run(runCtx(target))).toMatchObject({ status: 'done' });
  });

  it('require-function-url-auth: a URL deleted meanwhile (ResourceNotFoundException) leaves nothing to close', async () => {
    lambda.on(GetFunctionUrlConfigCommand).rejects(new ResourceNotFoundException({ message: 'gone', $metadata }));
    expect(await requireFunctionUrlAuth.run(runCtx('f'))).toMatchObject({ status: 'done', undo: [] });
    expect(lambda.commandCalls(UpdateFunctionUrlConfigCommand)).toEqual([]);
    expect((await requireFunctionUrlAuth.verify(verifyCtx('f'))).verified).toBe(true);
  });

  it('disassociate-resource-share: DISASSOCIATING counts as removed; only the principals still associated are sent', async () => {
    ram.on(GetResourceShareAssociationsCommand).resolves({
      resourceShareAssociations: [
        { resourceShareArn: SHARE, associatedEntity: '444455556666', status: 'ASSOCIATED' },
        { resourceShareArn: SHARE, associatedEntity: '777788889999', status: 'DISASSOCIATING' },
      ],
    });
    ram.on(DisassociateResourceShareCommand).resolves({});
    await disassociateResourceShare.run(runCtx(`${SHARE} 444455556666,777788889999`, 'eu-west-1'));
    expect(ram.commandCalls(DisassociateResourceShareCommand).map((c) => c.args[0].input)).toEqual([
      { resourceShareArn: SHARE, principals: ['444455556666'] },
    ]);
    ram.on(GetResourceShareAssociationsCommand).rejects(new UnknownResourceException({ message: 'gone', $metadata }));
    expect((await disassociateResourceShare.verify(verifyCtx(`${SHARE} 444455556666`, 'eu-west-1'))).verified).toBe(true);
  });
});
