import { expect } from '@jest/globals';
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeSnapshotAttributeCommand,
  ModifySnapshotAttributeCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateDBClusterCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBSnapshotAttributesCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
} from '@aws-sdk/client-rds';
import { fixedClock } from '#shared/clock';
import type { ActionResult } from '#shared/contracts/action-result';
import type { TaskItemState } from '#shared/contracts/task-item';
import { runApprovedAction, type RunActionDeps } from '#functions/run-approved-action/run-approved-action';
import { verifyHumanTask, type VerifyTaskDeps } from '#functions/verify-human-task/verify-human-task';
import { ACCOUNT, describeMoto, itKeepsTheManifestHonest, MotoAws, useMoto } from './moto';
import { PlansInS3 } from './states';
import { SimulatedAws } from '#drill/simulated-aws';
import { simAccount, world } from '../helpers-sim';

/**
 * The snapshot-share undos on moto: the snapshot is created and shared in moto, Run Approved Action
 * removes exactly the grantees the event added, Verify Human Task re-reads them with the calls the
 * deployed steps make, and moto's own state is checked. The EBS undo uses ModifySnapshotAttribute's
 * OperationType form (OperationType, UserIds, GroupNames), which moto reads and AWS documents.
 */
describeMoto('contract: snapshot-share undos', () => {
  const moto = useMoto();
  const clock = fixedClock('2024-03-04T11:00:00Z');
  const REGION = 'eu-west-1';
  const FOREIGN = '444455556666';
  let plans: PlansInS3;
  const runDeps = (): RunActionDeps => ({
    clients: moto.aws.target(ACCOUNT),
    responder: moto.aws.target(),
    member: false,
    clock,
    baseline: { alternateContacts: {} },
    limiters: MotoAws.noLimits(),
    taskDetails: plans.details(ACCOUNT),
  });
  const verifyDeps = (): VerifyTaskDeps => ({
    clients: moto.aws.target(),
    clock,
    limiters: MotoAws.noLimits(),
    baseline: { alternateContacts: {}, expectedOrganizationId: null },
    taskDetails: plans.details(ACCOUNT),
  });
  const remediation = (action: string, target: string) =>
    plans.item(ACCOUNT, { id: `${action}-task`, kind: 'remediation', title: action, remediation: { action, target, region: REGION } });
  const ran = (item: TaskItemState, result: ActionResult): TaskItemState => ({ ...item, action: { Payload: result } });

  beforeEach(async () => {
    await moto.reset();
    plans = new PlansInS3(moto.aws, await moto.aws.evidenceBucket());
  });

  describe('remove-snapshot-share (EBS)', () => {
    async function sharedSnapshot(): Promise<string> {
      const ec2 = moto.aws.ec2Admin(REGION);
      const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, Size: 8 }));
      const { SnapshotId } = await ec2.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId! }));
      await ec2.send(
        new ModifySnapshotAttributeCommand({
          SnapshotId,
          Attribute: 'createVolumePermission',
          OperationType: 'add',
          GroupNames: ['all'],
          UserIds: [FOREIGN, '777788889999'],
        }),
      );
      return SnapshotId!;
    }
    const grantees = async (SnapshotId: string) =>
      (
        (await moto.aws.ec2Admin(REGION).send(new DescribeSnapshotAttributeCommand({ SnapshotId, Attribute: 'createVolumePermission' })))
          .CreateVolumePermissions ?? []
      ).map((p) => p.Group ?? p.UserId);

    it('removes `all` and the foreign account root added, keeps the other grantee; verified by DescribeSnapshotAttribute', async () => {
      const id = await sharedSnapshot();
      const item = await remediation('remove-snapshot-share', `${id} all,${FOREIGN}`);
      const out = await runApprovedAction(item, runDeps());
      expect(out).toMatchObject({
        status: 'done',
        undo: [
          `aws ec2 modify-snapshot-attribute --snapshot-id ${id} --create-volume-permission 'Add=[{Group=all},{UserId=${FOREIGN}}]' --region ${REGION}`,
        ],
      });
      expect(await grantees(id)).toEqual(['777788889999']);
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
      // The undo the report shows puts it back (its OperationType form, as moto reads it), and verification then fails.
      await moto.aws.ec2Admin(REGION).send(
        new ModifySnapshotAttributeCommand({
          SnapshotId: id,
          Attribute: 'createVolumePermission',
          OperationType: 'add',
          GroupNames: ['all'],
        }),
      );
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: false });
      // Run again: removes `all`, says the account had already lost it.
      const again = await runApprovedAction(item, runDeps());
      expect(again.detail).toContain(`${FOREIGN} had already lost it`);
    });

    it('a snapshot moto does not know (InvalidSnapshot.NotFound): nothing to remove, verified', async () => {
      const item = await remediation('remove-snapshot-share', 'snap-0123456789abcdef0 all');
      const out = await runApprovedAction(item, runDeps());
      expect(out).toMatchObject({
        status: 'done',
        detail: `EBS snapshot snap-0123456789abcdef0 no longer exists in ${REGION}: nothing to remove.`,
      });
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
    });
  });

  describe('remove-db-snapshot-share (RDS)', () => {
    it('a DB instance snapshot shared with a foreign account: ValuesToRemove, verified by DescribeDBSnapshotAttributes', async () => {
      const rds = moto.aws.rdsAdmin(REGION);
      await rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: 'orders',
          Engine: 'postgres',
          DBInstanceClass: 'db.t3.micro',
          AllocatedStorage: 20,
          MasterUsername: 'admin',
          MasterUserPassword: 'Not-a-real-1',
        }),
      );
      await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'orders', DBSnapshotIdentifier: 'orders-snap' }));
      await rds.send(
        new ModifyDBSnapshotAttributeCommand({
          DBSnapshotIdentifier: 'orders-snap',
          AttributeName: 'restore',
          ValuesToAdd: [FOREIGN, '777788889999'],
        }),
      );
      const item = await remediation('remove-db-snapshot-share', `instance orders-snap ${FOREIGN}`);
      const out = await runApprovedAction(item, runDeps());
      expect(out).toMatchObject({
        status: 'done',
        undo: [
          `aws rds modify-db-snapshot-attribute --db-snapshot-identifier orders-snap --attribute-name restore --values-to-add ${FOREIGN} --region ${REGION}`,
        ],
      });
      const now = await rds.send(new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: 'orders-snap' }));
      expect(now.DBSnapshotAttributesResult?.DBSnapshotAttributes).toEqual([
        { AttributeName: 'restore', AttributeValues: ['777788889999'] },
      ]);
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
      expect((await runApprovedAction(item, runDeps())).detail).toBe(
        `RDS snapshot orders-snap in ${REGION} is no longer shared with ${FOREIGN}: nothing to remove.`,
      );
    });

    it('an Aurora cluster snapshot shared with all: the cluster calls, verified by DescribeDBClusterSnapshotAttributes', async () => {
      const rds = moto.aws.rdsAdmin(REGION);
      await rds.send(
        new CreateDBClusterCommand({
          DBClusterIdentifier: 'ledger',
          Engine: 'aurora-postgresql',
          MasterUsername: 'admin',
          MasterUserPassword: 'Not-a-real-1',
        }),
      );
      await rds.send(new CreateDBClusterSnapshotCommand({ DBClusterIdentifier: 'ledger', DBClusterSnapshotIdentifier: 'ledger-snap' }));
      await rds.send(
        new ModifyDBClusterSnapshotAttributeCommand({
          DBClusterSnapshotIdentifier: 'ledger-snap',
          AttributeName: 'restore',
          ValuesToAdd: ['all'],
        }),
      );
      const item = await remediation('remove-db-snapshot-share', 'cluster ledger-snap all');
      const out = await runApprovedAction(item, runDeps());
      expect(out).toMatchObject({ status: 'done' });
      const now = await rds.send(new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: 'ledger-snap' }));
      expect(now.DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes).toEqual([
        { AttributeName: 'restore', AttributeValues: [] },
      ]);
      expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
    });

    it('snapshots moto does not know (its DBSnapshotNotFoundFault, DBClusterSnapshotNotFoundFault): nothing to remove, verified', async () => {
      for (const target of ['instance gone-snap all', 'cluster gone-cluster-snap all']) {
        const item = await remediation('remove-db-snapshot-share', target);
        const out = await runApprovedAction(item, runDeps());
        expect(out).toMatchObject({ status: 'done', detail: expect.stringContaining('no longer exists') as unknown });
        expect(await verifyHumanTask(ran(item, out), verifyDeps())).toMatchObject({ verified: true });
      }
    });
  });

  describe("parity: the simulated account and moto answer the undos' calls alike", () => {
    const sim = new SimulatedAws(world([simAccount(ACCOUNT)], { responderAccountId: ACCOUNT }));
    const outcome = async (send: () => Promise<unknown>) => {
      try {
        return { output: await send() };
      } catch (error) {
        const e = error as { name: string; $metadata?: { httpStatusCode?: number } };
        return { error: e.name, status: e.$metadata?.httpStatusCode };
      }
    };
    it('a snapshot neither knows: the same SDK error names', async () => {
      type Clients = ReturnType<typeof moto.aws.target>;
      const calls: ((t: Clients) => Promise<unknown>)[] = [
        (t) =>
          t
            .ec2(REGION)
            .send(new DescribeSnapshotAttributeCommand({ SnapshotId: 'snap-0123456789abcdef0', Attribute: 'createVolumePermission' })),
        (t) => t.rds(REGION).send(new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: 'gone-snap' })),
        (t) => t.rds(REGION).send(new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: 'gone-snap' })),
      ];
      const names = { moto: [] as unknown[], sim: [] as unknown[] };
      for (const call of calls) {
        names.moto.push(await outcome(() => call(moto.aws.target(ACCOUNT))));
        names.sim.push(await outcome(() => call(sim.targetClients({ accountId: ACCOUNT }))));
      }
      // AWS's wire codes are InvalidSnapshot.NotFound (EC2), DBSnapshotNotFound and DBClusterSnapshotNotFoundFault (RDS, 404 in
      // the SDK's model); moto sends DBSnapshotNotFoundFault, and the SDK names both the same: the undos compare these names.
      expect(names.sim).toEqual(names.moto);
      expect(names.moto).toEqual([
        { error: 'InvalidSnapshot.NotFound', status: 400 },
        { error: 'DBSnapshotNotFoundFault', status: 404 },
        { error: 'DBClusterSnapshotNotFoundFault', status: 404 },
      ]);
    });
  });

  itKeepsTheManifestHonest(__filename);
});
