import { DescribeSnapshotAttributeCommand, ModifySnapshotAttributeCommand } from '@aws-sdk/client-ec2';
import {
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBSnapshotAttributesCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
} from '@aws-sdk/client-rds';
import type { TargetClients } from '../clients';
import { unlessAbsent } from '../errors';
import { parseDbShareTarget, parseShareTarget } from '../exposure';
import { defineRemediation, type RemediationMeta } from './types';

/**
 * The undos of a snapshot root shared: the EBS snapshot's createVolumePermission and the RDS (DB
 * instance or Aurora cluster) snapshot's `restore` attribute lose exactly the grantees the event
 * added (the target names them: exposure.ts `undoTarget`), nobody else. Each is re-read by API
 * afterwards, and a person can share it again (undoSteps).
 */

const who = (grantees: string[]) => grantees.map((g) => (g === 'all' ? 'everyone (all)' : g)).join(', ');

// ---------- remove-snapshot-share (EBS) ----------

/** EC2 raises its ServiceException named by the error code. */
const EBS_NOT_FOUND = ['InvalidSnapshot.NotFound'];

/** Who may create volumes from the snapshot now (`all`, account ids), or undefined when EC2 no longer knows it. */
async function createVolumeGrantees(clients: TargetClients, region: string, snapshotId: string): Promise<string[] | undefined> {
  const out = await unlessAbsent(
    'ec2:DescribeSnapshotAttribute',
    () => clients.ec2(region).send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission' })),
    EBS_NOT_FOUND,
  );
  return out ? (out.CreateVolumePermissions ?? []).map((p) => p.Group ?? p.UserId ?? '?') : undefined;
}

const addCreateVolume = (snapshotId: string, region: string, grantees: string[]) =>
  `aws ec2 modify-snapshot-attribute --snapshot-id ${snapshotId} --create-volume-permission 'Add=[${grantees
    .map((g) => (g === 'all' ? '{Group=all}' : `{UserId=${g}}`))
    .join(',')}]' --region ${region}`;

export const removeSnapshotShareMeta: RemediationMeta<'remove-snapshot-share'> = {
  action: 'remove-snapshot-share',
  runsIn: 'target-account',
  permissions: { run: ['ec2:DescribeSnapshotAttribute', 'ec2:ModifySnapshotAttribute'], verify: ['ec2:DescribeSnapshotAttribute'] },
  reversible: true,
  approvals: 1,
};

export const removeSnapshotShare = /* @__PURE__ */ defineRemediation(removeSnapshotShareMeta, {
  async run({ clients, region, target }) {
    const { id, grantees } = parseShareTarget(target);
    const now = await createVolumeGrantees(clients, region, id);
    if (now === undefined)
      return { status: 'done', detail: `EBS snapshot ${id} no longer exists in ${region}: nothing to remove.`, undo: [] };
    const present = grantees.filter((g) => now.includes(g));
    if (present.length === 0)
      return {
        status: 'done',
        detail: `EBS snapshot ${id} in ${region} is no longer shared with ${who(grantees)}: nothing to remove.`,
        undo: [],
      };
    const groups = present.filter((g) => g === 'all');
    const users = present.filter((g) => g !== 'all');
    // The OperationType form (EC2 API Reference, ModifySnapshotAttribute: OperationType, UserId.N, GroupName.N).
    const removed = await unlessAbsent(
      'ec2:ModifySnapshotAttribute',
      () =>
        clients.ec2(region).send(
          new ModifySnapshotAttributeCommand({
            SnapshotId: id,
            Attribute: 'createVolumePermission',
            OperationType: 'remove',
            ...(users.length ? { UserIds: users } : {}),
            ...(groups.length ? { GroupNames: groups } : {}),
          }),
        ),
      EBS_NOT_FOUND,
    );
    if (removed === undefined)
      return { status: 'done', detail: `EBS snapshot ${id} was deleted in ${region} meanwhile: nothing to remove.`, undo: [] };
    const gone = grantees.filter((g) => !present.includes(g));
    return {
      status: 'done',
      detail: `Removed the createVolumePermission of ${who(present)} from EBS snapshot ${id} in ${region} (ModifySnapshotAttribute).${
        gone.length ? ` ${who(gone)} had already lost it.` : ''
      }`,
      undo: [addCreateVolume(id, region, present)],
    };
  },
  async verify({ clients, region, target }) {
    const { id, grantees } = parseShareTarget(target);
    const now = await createVolumeGrantees(clients, region, id);
    if (now === undefined) return { verified: true, reason: `DescribeSnapshotAttribute: EBS snapshot ${id} in ${region} no longer exists` };
    const left = grantees.filter((g) => now.includes(g));
    return left.length === 0
      ? { verified: true, reason: `DescribeSnapshotAttribute: EBS snapshot ${id} in ${region} is not shared with ${who(grantees)}` }
      : { verified: false, reason: `DescribeSnapshotAttribute: EBS snapshot ${id} in ${region} is still shared with ${who(left)}` };
  },
  undoSteps: ({ target, region }) => {
    const { id, grantees } = parseShareTarget(target);
    return [addCreateVolume(id, region, grantees)];
  },
});

// ---------- remove-db-snapshot-share (RDS: DB instance or Aurora cluster snapshot) ----------

/**
 * The SDK's exception names (RDS's wire codes `DBSnapshotNotFound` and `DBClusterSnapshotNotFoundFault`
 * arrive as these classes; a wire code the client does not model keeps its own name, so both are listed).
 */
const RDS_NOT_FOUND = {
  instance: ['DBSnapshotNotFoundFault', 'DBSnapshotNotFound'],
  cluster: ['DBClusterSnapshotNotFoundFault'],
};

type DbShare = ReturnType<typeof parseDbShareTarget>;

const dbLabel = (t: DbShare) => `${t.snapshotType === 'cluster' ? 'Aurora cluster snapshot' : 'RDS snapshot'} ${t.id}`;

/** The snapshot's `restore` values now, or undefined when RDS no longer knows it. */
async function restoreValues(clients: TargetClients, region: string, t: DbShare): Promise<string[] | undefined> {
  const rds = clients.rds(region);
  if (t.snapshotType === 'cluster') {
    const out = await unlessAbsent(
      'rds:DescribeDBClusterSnapshotAttributes',
      () => rds.send(new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: t.id })),
      RDS_NOT_FOUND.cluster,
    );
    if (!out) return undefined;
    return (out.DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes ?? [])
      .filter((a) => a.AttributeName === 'restore')
      .flatMap((a) => a.AttributeValues ?? []);
  }
  const out = await unlessAbsent(
    'rds:DescribeDBSnapshotAttributes',
    () => rds.send(new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: t.id })),
    RDS_NOT_FOUND.instance,
  );
  if (!out) return undefined;
  return (out.DBSnapshotAttributesResult?.DBSnapshotAttributes ?? [])
    .filter((a) => a.AttributeName === 'restore')
    .flatMap((a) => a.AttributeValues ?? []);
}

/** The CLI command that shares the snapshot again with these values. */
const addRestore = (t: DbShare, region: string, values: string[]) =>
  t.snapshotType === 'cluster'
    ? `aws rds modify-db-cluster-snapshot-attribute --db-cluster-snapshot-identifier ${t.id} --attribute-name restore --values-to-add ${values.join(' ')} --region ${region}`
    : `aws rds modify-db-snapshot-attribute --db-snapshot-identifier ${t.id} --attribute-name restore --values-to-add ${values.join(' ')} --region ${region}`;

export const removeDbSnapshotShareMeta: RemediationMeta<'remove-db-snapshot-share'> = {
  action: 'remove-db-snapshot-share',
  runsIn: 'target-account',
  permissions: {
    run: [
      'rds:DescribeDBSnapshotAttributes',
      'rds:ModifyDBSnapshotAttribute',
      'rds:DescribeDBClusterSnapshotAttributes',
      'rds:ModifyDBClusterSnapshotAttribute',
    ],
    verify: ['rds:DescribeDBSnapshotAttributes', 'rds:DescribeDBClusterSnapshotAttributes'],
  },
  reversible: true,
  approvals: 1,
};

export const removeDbSnapshotShare = /* @__PURE__ */ defineRemediation(removeDbSnapshotShareMeta, {
  async run({ clients, region, target }) {
    const t = parseDbShareTarget(target);
    const now = await restoreValues(clients, region, t);
    if (now === undefined) return { status: 'done', detail: `${dbLabel(t)} no longer exists in ${region}: nothing to remove.`, undo: [] };
    const present = t.values.filter((v) => now.includes(v));
    if (present.length === 0)
      return {
        status: 'done',
        detail: `${dbLabel(t)} in ${region} is no longer shared with ${who(t.values)}: nothing to remove.`,
        undo: [],
      };
    const rds = clients.rds(region);
    const removed =
      t.snapshotType === 'cluster'
        ? await unlessAbsent(
            'rds:ModifyDBClusterSnapshotAttribute',
            () =>
              rds.send(
                new ModifyDBClusterSnapshotAttributeCommand({
                  DBClusterSnapshotIdentifier: t.id,
                  AttributeName: 'restore',
                  ValuesToRemove: present,
                }),
              ),
            RDS_NOT_FOUND.cluster,
          )
        : await unlessAbsent(
            'rds:ModifyDBSnapshotAttribute',
            () =>
              rds.send(
                new ModifyDBSnapshotAttributeCommand({ DBSnapshotIdentifier: t.id, AttributeName: 'restore', ValuesToRemove: present }),
              ),
            RDS_NOT_FOUND.instance,
          );
    if (removed === undefined)
      return { status: 'done', detail: `${dbLabel(t)} was deleted in ${region} meanwhile: nothing to remove.`, undo: [] };
    const gone = t.values.filter((v) => !present.includes(v));
    return {
      status: 'done',
      detail: `Removed ${who(present)} from the restore attribute of ${dbLabel(t)} in ${region} (${
        t.snapshotType === 'cluster' ? 'ModifyDBClusterSnapshotAttribute' : 'ModifyDBSnapshotAttribute'
      }).${gone.length ? ` ${who(gone)} had already lost it.` : ''}`,
      undo: [addRestore(t, region, present)],
    };
  },
  async verify({ clients, region, target }) {
    const t = parseDbShareTarget(target);
    const call = t.snapshotType === 'cluster' ? 'DescribeDBClusterSnapshotAttributes' : 'DescribeDBSnapshotAttributes';
    const now = await restoreValues(clients, region, t);
    if (now === undefined) return { verified: true, reason: `${call}: ${dbLabel(t)} in ${region} no longer exists` };
    const left = t.values.filter((v) => now.includes(v));
    return left.length === 0
      ? { verified: true, reason: `${call}: ${dbLabel(t)} in ${region} is not shared with ${who(t.values)}` }
      : { verified: false, reason: `${call}: ${dbLabel(t)} in ${region} can still be restored by ${who(left)}` };
  },
  undoSteps: ({ target, region }) => {
    if (!/^(instance|cluster) \S+ \S+$/.test(target))
      return [
        `Share the RDS snapshot again in ${region} with the restore values the report's Run Approved Action detail lists (target "${target}").`,
      ];
    const t = parseDbShareTarget(target);
    return [addRestore(t, region, t.values)];
  },
});
