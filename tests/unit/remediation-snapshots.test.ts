import { DescribeSnapshotAttributeCommand, EC2Client, EC2ServiceException, ModifySnapshotAttributeCommand } from '@aws-sdk/client-ec2';
import {
  DBClusterSnapshotNotFoundFault,
  DBSnapshotNotFoundFault,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBSnapshotAttributesCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
  RDSServiceException,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import type { JsonObject } from '#shared/cloudtrail';
import { fixedClock } from '#shared/clock';
import { AccessDeniedError, InvalidStepInputError } from '#shared/errors';
import { exposureFindings, parseDbShareTarget, undoTarget } from '#shared/exposure';
import { RateLimiters, virtualTimer } from '#shared/rate-limit';
import { remediationFor } from '#shared/remediations/index';
import { removeDbSnapshotShare, removeSnapshotShare } from '#shared/remediations/snapshots';
import type { RunContext, VerifyContext } from '#shared/remediations/types';
import { SimulatedAws } from '#drill/simulated-aws';
import { sdkTargetClients } from '../helpers-mock';
import { simAccount, world } from '../helpers-sim';

/**
 * The snapshot-share undos: an EBS snapshot's createVolumePermission and an RDS (DB instance or
 * Aurora cluster) snapshot's `restore` attribute lose exactly the grantees the event added. Against
 * the SDK's own clients, mocked (EC2 raises its ServiceException named by the code; RDS its modeled
 * faults), and against the simulated account, whose state is built from the account's records.
 */
const ACCOUNT = '246813579024';
const ec2 = mockClient(EC2Client);
const rds = mockClient(RDSClient);
const ec2Error = (name: string) => new EC2ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message: name });
const meta404 = { message: 'not found', $metadata: { httpStatusCode: 404 } };
const clients = sdkTargetClients();
const base = {
  accountId: ACCOUNT,
  region: 'eu-west-1',
  clients,
  responder: clients,
  clock: fixedClock('2019-01-01T01:00:00Z'),
  baseline: { alternateContacts: {} },
  limiters: new RateLimiters(2, virtualTimer()),
};
const runCtx = (target: string): RunContext => ({
  ...base,
  target,
  member: false,
  rootSession: () => Promise.reject(new Error('no root session here')),
});
const verifyCtx = (target: string): VerifyContext => ({ ...base, target, ran: { detail: '' } });

beforeEach(() => {
  ec2.reset();
  rds.reset();
});

/** A root call as CloudTrail records it (requestParameters in the documented shapes; written, not real records). */
function record(eventName: string, eventSource: string, requestParameters: JsonObject, eventID: string): JsonObject {
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'Root', principalId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT },
    eventTime: '2019-01-01T00:10:00Z',
    eventSource,
    eventName,
    awsRegion: 'eu-west-1',
    sourceIPAddress: '111.111.111.111',
    requestParameters,
    responseElements: null,
    eventID,
    eventType: 'AwsApiCall',
    recipientAccountId: ACCOUNT,
  };
}
const ebsShare = record(
  'ModifySnapshotAttribute',
  'ec2.amazonaws.com',
  {
    snapshotId: 'snap-0a1b2c3d4e5f60001',
    createVolumePermission: { add: { items: [{ group: 'all' }] } },
    attributeType: 'CREATE_VOLUME_PERMISSION',
  },
  'e-ebs',
);
// The shape of the published ModifyDBSnapshotAttribute records (dBSnapshotIdentifier, attributeName, valuesToAdd).
const rdsShare = record(
  'ModifyDBSnapshotAttribute',
  'rds.amazonaws.com',
  { dBSnapshotIdentifier: 'orders-2018-12-31', attributeName: 'restore', valuesToAdd: ['444455556666'] },
  'e-rds',
);
const clusterShare = record(
  'ModifyDBClusterSnapshotAttribute',
  'rds.amazonaws.com',
  { dBClusterSnapshotIdentifier: 'aurora-ledger-2018-12-31', attributeName: 'restore', valuesToAdd: ['all'] },
  'e-cluster',
);
const events = (records: JsonObject[]) =>
  records.map((r) => ({ id: String(r['eventID']), at: String(r['eventTime']), region: 'eu-west-1', record: r }));

describe('snapshot-share findings propose their undo, with exactly what the event added as target', () => {
  it('EBS, RDS instance and Aurora cluster snapshots: proposed, targets name the kind, the identifier and the values', () => {
    const { findings } = exposureFindings(events([ebsShare, rdsShare, clusterShare]), { accountId: ACCOUNT });
    expect(findings.map((f) => [f.exposure.kind, f.exposure.undo.kind, f.exposure.undo.status, undoTarget(f.exposure)])).toEqual([
      ['ebs-snapshot-share', 'remove-snapshot-share', 'proposed', 'snap-0a1b2c3d4e5f60001 all'],
      ['rds-snapshot-share', 'remove-db-snapshot-share', 'proposed', 'instance orders-2018-12-31 444455556666'],
      ['rds-cluster-snapshot-share', 'remove-db-snapshot-share', 'proposed', 'cluster aurora-ledger-2018-12-31 all'],
    ]);
    expect(findings.map((f) => f.title)).toEqual([
      'EBS snapshot snap-0a1b2c3d4e5f60001 shared (createVolumePermission) to everyone (all) in eu-west-1',
      'RDS snapshot orders-2018-12-31 shared for restore to account 444455556666 outside this account in eu-west-1',
      'RDS cluster snapshot aurora-ledger-2018-12-31 shared for restore to everyone (all) in eu-west-1',
    ]);
  });

  it('a failed share, or one that added no value, proposes nothing', () => {
    const failed = { ...rdsShare, errorCode: 'DBSnapshotNotFound' };
    const empty = record('ModifyDBSnapshotAttribute', 'rds.amazonaws.com', { dBSnapshotIdentifier: 'x', attributeName: 'restore' }, 'e-0');
    const { findings } = exposureFindings(events([failed, empty]), { accountId: ACCOUNT });
    expect(findings.map((f) => f.exposure.undo.status)).toEqual(['not-implemented']);
  });

  it('the RDS target reads back; a target that is not one is a typed input error', () => {
    expect(parseDbShareTarget('cluster aurora-1 all,444455556666')).toEqual({
      snapshotType: 'cluster',
      id: 'aurora-1',
      values: ['all', '444455556666'],
    });
    expect(() => parseDbShareTarget('snap-1 all')).toThrow(InvalidStepInputError);
  });

  it('both entries are in the registry, reversible, one approval, declaring what they call', () => {
    expect(remediationFor('remove-snapshot-share')).toMatchObject({ reversible: true, approvals: 1, runsIn: 'target-account' });
    expect(remediationFor('remove-db-snapshot-share')?.permissions.verify).toEqual([
      'rds:DescribeDBSnapshotAttributes',
      'rds:DescribeDBClusterSnapshotAttributes',
    ]);
  });
});

describe('remove-snapshot-share (mocked EC2)', () => {
  it('removes only the grantees still there (partial: one already gone), by OperationType remove; undo adds them back', async () => {
    ec2
      .on(DescribeSnapshotAttributeCommand)
      .resolvesOnce({ SnapshotId: 'snap-1', CreateVolumePermissions: [{ Group: 'all' }, { UserId: '777788889999' }] })
      .resolves({ SnapshotId: 'snap-1', CreateVolumePermissions: [{ UserId: '777788889999' }] });
    ec2.on(ModifySnapshotAttributeCommand).resolves({});
    const out = await removeSnapshotShare.run(runCtx('snap-1 all,444455556666'));
    expect(ec2.commandCalls(ModifySnapshotAttributeCommand).map((c) => c.args[0].input)).toEqual([
      { SnapshotId: 'snap-1', Attribute: 'createVolumePermission', OperationType: 'remove', GroupNames: ['all'] },
    ]);
    expect(out).toEqual({
      status: 'done',
      detail:
        'Removed the createVolumePermission of everyone (all) from EBS snapshot snap-1 in eu-west-1 (ModifySnapshotAttribute). 444455556666 had already lost it.',
      undo: ["aws ec2 modify-snapshot-attribute --snapshot-id snap-1 --create-volume-permission 'Add=[{Group=all}]' --region eu-west-1"],
    });
    // The account root did not add (777788889999) keeps its permission, and verification says the share is gone.
    expect(await removeSnapshotShare.verify(verifyCtx('snap-1 all,444455556666'))).toEqual({
      verified: true,
      reason: 'DescribeSnapshotAttribute: EBS snapshot snap-1 in eu-west-1 is not shared with everyone (all), 444455556666',
    });
  });

  it('already removed: done, says there is nothing to do, changes nothing', async () => {
    ec2.on(DescribeSnapshotAttributeCommand).resolves({ SnapshotId: 'snap-1', CreateVolumePermissions: [] });
    const out = await removeSnapshotShare.run(runCtx('snap-1 all'));
    expect(out).toEqual({
      status: 'done',
      detail: 'EBS snapshot snap-1 in eu-west-1 is no longer shared with everyone (all): nothing to remove.',
      undo: [],
    });
    expect(ec2.commandCalls(ModifySnapshotAttributeCommand)).toEqual([]);
  });

  it('deleted meanwhile (InvalidSnapshot.NotFound): nothing to remove, verified', async () => {
    ec2.on(DescribeSnapshotAttributeCommand).rejects(ec2Error('InvalidSnapshot.NotFound'));
    expect((await removeSnapshotShare.run(runCtx('snap-1 all'))).detail).toBe(
      'EBS snapshot snap-1 no longer exists in eu-west-1: nothing to remove.',
    );
    expect(await removeSnapshotShare.verify(verifyCtx('snap-1 all'))).toEqual({
      verified: true,
      reason: 'DescribeSnapshotAttribute: EBS snapshot snap-1 in eu-west-1 no longer exists',
    });
  });

  it('refused (UnauthorizedOperation): a typed access-denied error, never "done"; verify says who still has it', async () => {
    ec2.on(DescribeSnapshotAttributeCommand).resolves({ SnapshotId: 'snap-1', CreateVolumePermissions: [{ UserId: '444455556666' }] });
    ec2.on(ModifySnapshotAttributeCommand).rejects(ec2Error('UnauthorizedOperation'));
    await expect(removeSnapshotShare.run(runCtx('snap-1 444455556666'))).rejects.toBeInstanceOf(AccessDeniedError);
    expect(await removeSnapshotShare.verify(verifyCtx('snap-1 444455556666'))).toEqual({
      verified: false,
      reason: 'DescribeSnapshotAttribute: EBS snapshot snap-1 in eu-west-1 is still shared with 444455556666',
    });
  });
});

describe('remove-db-snapshot-share (mocked RDS)', () => {
  const restore = (values: string[]) => ({
    DBSnapshotAttributesResult: {
      DBSnapshotIdentifier: 'orders',
      DBSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: values }],
    },
  });
  const clusterRestore = (values: string[]) => ({
    DBClusterSnapshotAttributesResult: {
      DBClusterSnapshotIdentifier: 'ledger',
      DBClusterSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: values }],
    },
  });

  it('DB instance snapshot: removes exactly the values still there (partial), ValuesToRemove; undo adds them back', async () => {
    rds
      .on(DescribeDBSnapshotAttributesCommand)
      .resolvesOnce(restore(['444455556666', '777788889999']))
      .resolves(restore(['777788889999']));
    rds.on(ModifyDBSnapshotAttributeCommand).resolves(restore(['777788889999']));
    const out = await removeDbSnapshotShare.run(runCtx('instance orders all,444455556666'));
    expect(rds.commandCalls(ModifyDBSnapshotAttributeCommand).map((c) => c.args[0].input)).toEqual([
      { DBSnapshotIdentifier: 'orders', AttributeName: 'restore', ValuesToRemove: ['444455556666'] },
    ]);
    expect(rds.commandCalls(ModifyDBClusterSnapshotAttributeCommand)).toEqual([]);
    expect(out).toEqual({
      status: 'done',
      detail:
        'Removed 444455556666 from the restore attribute of RDS snapshot orders in eu-west-1 (ModifyDBSnapshotAttribute). everyone (all) had already lost it.',
      undo: [
        'aws rds modify-db-snapshot-attribute --db-snapshot-identifier orders --attribute-name restore --values-to-add 444455556666 --region eu-west-1',
      ],
    });
    expect(await removeDbSnapshotShare.verify(verifyCtx('instance orders all,444455556666'))).toEqual({
      verified: true,
      reason: 'DescribeDBSnapshotAttributes: RDS snapshot orders in eu-west-1 is not shared with everyone (all), 444455556666',
    });
  });

  it('Aurora cluster snapshot: the cluster calls; verify not verified while `all` is still there', async () => {
    rds.on(DescribeDBClusterSnapshotAttributesCommand).resolves(clusterRestore(['all']));
    rds.on(ModifyDBClusterSnapshotAttributeCommand).resolves(clusterRestore([]));
    const out = await removeDbSnapshotShare.run(runCtx('cluster ledger all'));
    expect(rds.commandCalls(ModifyDBClusterSnapshotAttributeCommand).map((c) => c.args[0].input)).toEqual([
      { DBClusterSnapshotIdentifier: 'ledger', AttributeName: 'restore', ValuesToRemove: ['all'] },
    ]);
    expect(out.undo).toEqual([
      'aws rds modify-db-cluster-snapshot-attribute --db-cluster-snapshot-identifier ledger --attribute-name restore --values-to-add all --region eu-west-1',
    ]);
    expect(await removeDbSnapshotShare.verify(verifyCtx('cluster ledger all'))).toEqual({
      verified: false,
      reason: 'DescribeDBClusterSnapshotAttributes: Aurora cluster snapshot ledger in eu-west-1 can still be restored by everyone (all)',
    });
  });

  it('already removed: done, says there is nothing to do, changes nothing', async () => {
    rds.on(DescribeDBSnapshotAttributesCommand).resolves(restore([]));
    expect(await removeDbSnapshotShare.run(runCtx('instance orders 444455556666'))).toEqual({
      status: 'done',
      detail: 'RDS snapshot orders in eu-west-1 is no longer shared with 444455556666: nothing to remove.',
      undo: [],
    });
    expect(rds.commandCalls(ModifyDBSnapshotAttributeCommand)).toEqual([]);
  });

  it('not found (DBSnapshotNotFoundFault, DBClusterSnapshotNotFoundFault): nothing to remove, verified', async () => {
    rds.on(DescribeDBSnapshotAttributesCommand).rejects(new DBSnapshotNotFoundFault(meta404));
    rds.on(DescribeDBClusterSnapshotAttributesCommand).rejects(new DBClusterSnapshotNotFoundFault(meta404));
    expect((await removeDbSnapshotShare.run(runCtx('instance orders all'))).detail).toBe(
      'RDS snapshot orders no longer exists in eu-west-1: nothing to remove.',
    );
    expect(await removeDbSnapshotShare.verify(verifyCtx('cluster ledger all'))).toEqual({
      verified: true,
      reason: 'DescribeDBClusterSnapshotAttributes: Aurora cluster snapshot ledger in eu-west-1 no longer exists',
    });
  });

  it('refused (AccessDenied): a typed access-denied error, never "done"', async () => {
    rds.on(DescribeDBSnapshotAttributesCommand).resolves(restore(['all']));
    rds
      .on(ModifyDBSnapshotAttributeCommand)
      .rejects(new RDSServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'no' }));
    await expect(removeDbSnapshotShare.run(runCtx('instance orders all'))).rejects.toBeInstanceOf(AccessDeniedError);
  });
});

describe('the simulated account: snapshots built from the account records, answering as EC2 and RDS do', () => {
  const sim = () =>
    new SimulatedAws(
      world([simAccount(ACCOUNT, { events: { 'eu-west-1': [ebsShare, rdsShare, clusterShare] } })], { responderAccountId: ACCOUNT }),
    );
  const ctx = (aws: SimulatedAws) => ({
    ...base,
    clients: aws.targetClients({ accountId: ACCOUNT }),
    responder: aws.targetClients({ accountId: ACCOUNT }),
  });

  it('RDS: the shares the records made, removed and verified; a second run says nothing to do', async () => {
    const aws = sim();
    const c = ctx(aws);
    expect(aws.rdsSnapshots.state(ACCOUNT, 'eu-west-1')).toEqual({
      instance: { 'orders-2018-12-31': { restore: ['444455556666'] } },
      cluster: { 'aurora-ledger-2018-12-31': { restore: ['all'] } },
    });
    for (const target of ['instance orders-2018-12-31 444455556666', 'cluster aurora-ledger-2018-12-31 all']) {
      const out = await removeDbSnapshotShare.run({ ...runCtx(target), ...c });
      expect([out.status, out.detail.startsWith('Removed ')]).toEqual(['done', true]);
      expect(await removeDbSnapshotShare.verify({ ...verifyCtx(target), ...c })).toMatchObject({ verified: true });
      expect((await removeDbSnapshotShare.run({ ...runCtx(target), ...c })).detail).toMatch(/nothing to remove\.$/);
    }
    expect(aws.changes.map((x) => `${x.change} ${x.target}`)).toEqual([
      'rds-remove-snapshot-share orders-2018-12-31/444455556666',
      'rds-remove-cluster-snapshot-share aurora-ledger-2018-12-31/all',
    ]);
  });

  it('RDS errors are the SDK classes RDS raises: DBSnapshotNotFoundFault, DBClusterSnapshotNotFoundFault (404)', async () => {
    const r = ctx(sim()).clients.rds('eu-west-1');
    await expect(r.send(new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: 'nope' }))).rejects.toMatchObject({
      name: 'DBSnapshotNotFoundFault',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(r.send(new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: 'nope' }))).rejects.toBeInstanceOf(
      DBClusterSnapshotNotFoundFault,
    );
    await expect(
      r.send(
        new ModifyDBSnapshotAttributeCommand({
          DBSnapshotIdentifier: 'orders-2018-12-31',
          AttributeName: 'restore',
          ValuesToAdd: ['1'],
          ValuesToRemove: ['1'],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterCombination' });
  });

  it('EBS: the OperationType form (UserIds / GroupNames) removes the share; a record that removes it is applied too', async () => {
    const aws = sim();
    const c = ctx(aws);
    expect(await removeSnapshotShare.run({ ...runCtx('snap-0a1b2c3d4e5f60001 all'), ...c })).toMatchObject({ status: 'done' });
    expect(aws.ec2State(ACCOUNT, 'eu-west-1').snapshots['snap-0a1b2c3d4e5f60001']!.createVolumePermissions).toEqual([]);
    expect(await removeSnapshotShare.verify({ ...verifyCtx('snap-0a1b2c3d4e5f60001 all'), ...c })).toMatchObject({ verified: true });
    const later = sim();
    later.world.accounts[ACCOUNT]!.events['eu-west-1']!.push(
      record(
        'ModifySnapshotAttribute',
        'ec2.amazonaws.com',
        { snapshotId: 'snap-0a1b2c3d4e5f60001', createVolumePermission: { remove: { items: [{ group: 'all' }] } } },
        'e-ebs-removed',
      ),
    );
    expect(later.ec2State(ACCOUNT, 'eu-west-1').snapshots['snap-0a1b2c3d4e5f60001']!.createVolumePermissions).toEqual([]);
  });
});
