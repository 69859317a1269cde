import {
  AccountNotManagementOrDelegatedAdministratorException,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  GetLoginProfileCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListMFADevicesCommand,
  ListOrganizationsFeaturesCommand,
  ListSigningCertificatesCommand,
  NoSuchEntityException,
  OrganizationNotFoundException,
  OrganizationNotInAllFeaturesModeException,
  PutUserPolicyCommand,
  ServiceAccessNotEnabledException,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRootCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { fixedClock } from '#shared/clock';
import { AwsCallError, isAwsError } from '#shared/errors';
import { virtualTimer } from '#shared/rate-limit';
import type { ActionResult } from '#shared/contracts/action-result';
import type { TaskItemState } from '#shared/contracts/task-item';
import { postureFindings, readRootAccessPosture } from '#functions/collect-evidence/root-access-posture';
import { containRootCredentials } from '#functions/contain-root-credentials/contain-root-credentials';
import { runApprovedAction } from '#functions/run-approved-action/run-approved-action';
import { snapshotRootCredentials } from '#functions/snapshot-root-credentials/snapshot-root-credentials';
import { verifyHumanTask } from '#functions/verify-human-task/verify-human-task';
import { RateLimiters } from '#shared/rate-limit';
import { meta, sdkTargetClients } from '../helpers-mock';
import { actionResult, executionInput, rootSnapshot } from '../helpers-state';

/**
 * The steps against the SDK's own exception classes (what AWS's wire errors become in SDK v3), not
 * against the simulated account: IAM's `NoSuchEntity` arrives as `NoSuchEntityException`.
 */
const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);
const clock = fixedClock('2024-03-04T11:00:00Z');
const MEMBER = '444455556666';
const noSuchEntity = () => new NoSuchEntityException(meta(404));

beforeEach(() => {
  iam.reset();
  sts.reset();
  sts.on(AssumeRootCommand).resolves({
    Credentials: {
      AccessKeyId: 'ASIAROOTSESSION00001',
      SecretAccessKey: 's',
      SessionToken: 't',
      Expiration: new Date('2024-03-04T11:15:00Z'),
    },
  });
});

const item = (task: { id: string; action: string; target: string; region?: string }, action?: ActionResult): TaskItemState => ({
  Payload: {
    input: {
      incidentId: 'i',
      accountId: MEMBER,
      severity: 'critical',
      task: {
        id: task.id,
        kind: 'remediation',
        remediation: { action: task.action, target: task.target, region: task.region ?? 'us-east-1' },
      },
      waitSeconds: 60,
      reminders: 0,
      maxReminders: 1,
    },
  },
  ...(action ? { action: { Payload: action } } : {}),
});

describe('isAwsError', () => {
  it('matches the SDK class, the same name from another copy of the SDK, and the cause our typed errors keep', () => {
    expect(isAwsError(noSuchEntity(), NoSuchEntityException)).toBe(true);
    // Another bundle's copy of the SDK: another class, the same modeled name.
    expect(isAwsError(Object.assign(new Error('x'), { name: 'NoSuchEntityException' }), NoSuchEntityException)).toBe(true);
    expect(isAwsError(new AwsCallError('iam:GetUserPolicy', { cause: noSuchEntity() }), NoSuchEntityException)).toBe(true);
    // The wire code is not the SDK's name.
    expect(isAwsError(Object.assign(new Error('x'), { name: 'NoSuchEntity' }), NoSuchEntityException)).toBe(false);
    expect(isAwsError(undefined, NoSuchEntityException)).toBe(false);
  });
});

describe('IAM not-found is NoSuchEntityException', () => {
  const deps = () => ({
    clients: sdkTargetClients(),
    responder: sdkTargetClients(),
    member: false,
    clock,
    baseline: { alternateContacts: {} },
    limiters: new RateLimiters(2, virtualTimer()),
    taskDetails: (id: string) => Promise.resolve({ id, kind: 'remediation' as const, title: 'T', why: [], steps: [], verification: 'v' }),
  });

  it('quarantining a user is done (policy attached, keys deactivated, console password kept), and so is a second quarantine', async () => {
    iam.on(PutUserPolicyCommand).resolves({});
    iam
      .on(ListAccessKeysCommand)
      .resolvesOnce({ AccessKeyMetadata: [{ UserName: 'tracy_stone', AccessKeyId: 'AKIAUSERKEY000000001', Status: 'Active' }] })
      .resolves({ AccessKeyMetadata: [{ UserName: 'tracy_stone', AccessKeyId: 'AKIAUSERKEY000000001', Status: 'Inactive' }] });
    iam.on(UpdateAccessKeyCommand).resolves({});
    iam.on(DeleteLoginProfileCommand).rejects(noSuchEntity());
    const task = { id: 'quarantine-iam-user-tracy-stone', action: 'quarantine-iam-user', target: 'tracy_stone' };

    const first = await runApprovedAction(item(task), deps());
    expect(first).toMatchObject({ status: 'done' });
    expect(first.detail).toBe(
      'Attached the deny-all inline policy root-responder-quarantine and deactivated 1 access key(s) (AKIAUSERKEY000000001); its console password is kept (the policy denies everything it could do).',
    );
    expect(iam).toHaveReceivedCommandTimes(DeleteLoginProfileCommand, 0);
    const second = await runApprovedAction(item(task), deps());
    expect(second).toMatchObject({ status: 'done' });
    expect(iam).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 1);
  });

  it('a root credential already gone under AssumeRoot is "already gone", not failed', async () => {
    iam.on(DeleteLoginProfileCommand).rejects(noSuchEntity());
    const out = await runApprovedAction(item({ id: 'delete-root-password', action: 'delete-root-password', target: MEMBER }), {
      ...deps(),
      member: true,
    });
    expect(out).toMatchObject({ status: 'done', detail: `Already gone: ${MEMBER}.` });
  });

  it('verifying a user without the quarantine policy answers "not verified" instead of throwing', async () => {
    iam.on(GetUserPolicyCommand).rejects(noSuchEntity());
    const out = await verifyHumanTask(
      item(
        { id: 'quarantine-iam-user-tracy-stone', action: 'quarantine-iam-user', target: 'tracy_stone' },
        actionResult('quarantine-iam-user-tracy-stone', { action: 'quarantine-iam-user', target: 'tracy_stone', detail: 'x' }),
      ),
      {
        clients: sdkTargetClients(),
        clock,
        limiters: new RateLimiters(2, virtualTimer()),
        baseline: { alternateContacts: {}, expectedOrganizationId: null },
        taskDetails: (id: string) =>
          Promise.resolve({ id, kind: 'remediation' as const, title: 'T', why: [], steps: [], verification: 'v' }),
      },
    );
    expect(out).toMatchObject({ verified: false, reason: 'User tracy_stone has no root-responder-quarantine policy' });
  });

  it('the AssumeRoot snapshot of a member whose root has no password says "absent"', async () => {
    iam.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    iam.on(ListSigningCertificatesCommand).resolves({ Certificates: [] });
    iam.on(ListMFADevicesCommand).resolves({ MFADevices: [] });
    iam.on(GetLoginProfileCommand).rejects(noSuchEntity());
    const state = executionInput({ accountId: MEMBER, openedAt: '2024-03-04T10:55:00Z' });
    const snap = await snapshotRootCredentials(state, {
      clients: sdkTargetClients(),
      responder: sdkTargetClients(),
      useAssumeRoot: true,
      region: 'us-east-1',
      clock,
    });
    expect(snap).toMatchObject({ method: 'assume-root-audit', root: { passwordPresent: false } });
    expect(snap.detail).toMatch(/password absent\.$/);
  });

  it('containment reports a credential deleted in between as already gone, and the step as done', async () => {
    iam
      .on(ListOrganizationsFeaturesCommand)
      .resolves({ OrganizationId: 'o-abcdefghij', EnabledFeatures: ['RootCredentialsManagement', 'RootSessions'] });
    iam.on(DeleteAccessKeyCommand).rejects(noSuchEntity());
    iam.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
    iam.on(ListSigningCertificatesCommand).resolves({ Certificates: [] });
    const snapshot = {
      Payload: rootSnapshot({
        accountId: MEMBER,
        method: 'assume-root-audit',
        root: {
          accessKeysPresent: true,
          accessKeys: [{ AccessKeyId: 'AKIAMEMBERROOTKEY001', Status: 'Active', CreateDate: null }],
          signingCertificatesPresent: false,
          signingCertificates: [],
        },
      }),
    };
    const state = { ...executionInput({ accountId: MEMBER, openedAt: '2024-03-04T10:55:00Z' }), snapshot };
    const out = await containRootCredentials(state, {
      responder: sdkTargetClients(),
      member: true,
      region: 'us-east-1',
      clock,
      timer: virtualTimer(),
    });
    expect(out).toMatchObject({ status: 'done', blockedBy: null });
    expect(out.actions.map((a) => [a.target, a.status])).toEqual([['AKIAMEMBERROOTKEY001', 'already-gone']]);
  });
});

describe('ListOrganizationsFeatures: centralized root access not available', () => {
  const notAvailable = [
    [
      'ServiceAccessNotEnabledException',
      () => new ServiceAccessNotEnabledException(meta()),
      /trusted access for IAM is not enabled in AWS Organizations/,
    ],
    [
      'OrganizationNotInAllFeaturesModeException',
      () => new OrganizationNotInAllFeaturesModeException(meta()),
      /does not have all features enabled/,
    ],
    ['OrganizationNotFoundException', () => new OrganizationNotFoundException(meta()), /no organization/],
  ] as const;

  it.each(notAvailable)(
    '%s: the posture says centralized root access is off, why, and how to enable it; no member is audited',
    async (_name, error, why) => {
      iam.on(ListOrganizationsFeaturesCommand).rejects(error());
      const posture = await readRootAccessPosture(sdkTargetClients(), '999988887777');
      expect(posture).toMatchObject({ enabled: false, features: [], membersChecked: 0 });
      expect(posture.notAvailable).toMatch(why);
      const [finding] = postureFindings(posture);
      expect(finding).toMatchObject({
        id: 'centralized-root-access-off',
        category: 'organization',
        severity: 'high',
        title: 'Centralized root access management is not available for the organization',
      });
      expect(finding!.detail).toMatch(why);
      expect(finding!.detail).toMatch(/IAM > Root access management > Enable/);
      expect(sts).toHaveReceivedCommandTimes(AssumeRootCommand, 0);
    },
  );

  it('not the management account or a delegated administrator: that is the deployment, not the posture, and stays an error', async () => {
    iam.on(ListOrganizationsFeaturesCommand).rejects(new AccountNotManagementOrDelegatedAdministratorException(meta()));
    await expect(readRootAccessPosture(sdkTargetClients(), '999988887777')).rejects.toMatchObject({ name: 'AwsCallError' });
  });

  it.each(notAvailable)(
    '%s: containment is skipped as "centralized root access" (a human task and that finding), not failed',
    async (_name, error, why) => {
      iam.on(ListOrganizationsFeaturesCommand).rejects(error());
      sts.on(AssumeRootCommand).rejects(new STSServiceException({ name: 'AccessDenied', $fault: 'client', ...meta(403) }));
      const state = executionInput({ accountId: MEMBER, openedAt: '2024-03-04T10:55:00Z' });
      const out = await containRootCredentials(state, {
        responder: sdkTargetClients(),
        member: true,
        region: 'us-east-1',
        clock,
        timer: virtualTimer(),
      });
      expect(out.status).toBe('skipped');
      expect(out.blockedBy).toMatch(/^centralized root access: not available for the organization: /);
      expect(out.blockedBy).toMatch(why);
      expect(out.detail).toMatch(/IAM > Root access management > Enable/);
    },
  );
});
