import type { JsonObject } from '#shared/cloudtrail';

/**
 * The simulated account's RDS snapshots, per account and region: DB instance snapshots and Aurora
 * cluster snapshots with their `restore` attribute (who may restore them: `all`, account ids). What
 * the account's CloudTrail records did to them (CreateDBSnapshot, CopyDBSnapshot,
 * ModifyDBSnapshotAttribute, DeleteDBSnapshot and their cluster forms) is applied as the records
 * arrive, so a scenario's records make the state, as EC2's do (simulated-aws.ts `ec2State`).
 *
 * The calls answer as RDS does (RDS API Reference, the SDK's model):
 * - a snapshot RDS does not know: `DBSnapshotNotFound` (404, the SDK's DBSnapshotNotFoundFault) or
 *   `DBClusterSnapshotNotFoundFault` (404);
 * - an attribute other than `restore`: InvalidParameterValue; a value both added and removed:
 *   InvalidParameterCombination; more than 20 accounts: SharedSnapshotQuotaExceeded (the SDK's
 *   SharedSnapshotQuotaExceededFault);
 * - removing a value the attribute does not hold changes nothing and succeeds;
 * - Describe and Modify answer `{DB[Cluster]SnapshotAttributesResult: {DB[Cluster]SnapshotIdentifier,
 *   DB[Cluster]SnapshotAttributes: [{AttributeName: 'restore', AttributeValues}]}}`, `restore` listed
 *   (empty) on a snapshot never shared.
 */
export interface SimRdsSnapshots {
  instance: Record<string, { restore: string[] }>;
  cluster: Record<string, { restore: string[] }>;
}

/** How the simulated account raises an error (its SimError, which leaves as the SDK's class) and records a change. */
export interface SnapshotHooks {
  records(accountId: string, region: string): JsonObject[];
  fail(name: string, message: string, status: number): Error;
  change(accountId: string, what: string, target: string): void;
}

export const RDS_SNAPSHOT_COMMANDS: Record<string, string> = {
  DescribeDBSnapshotAttributesCommand: 'rds:DescribeDBSnapshotAttributes',
  ModifyDBSnapshotAttributeCommand: 'rds:ModifyDBSnapshotAttribute',
  DescribeDBClusterSnapshotAttributesCommand: 'rds:DescribeDBClusterSnapshotAttributes',
  ModifyDBClusterSnapshotAttributeCommand: 'rds:ModifyDBClusterSnapshotAttribute',
};

/** RDS's limit on the accounts a manual snapshot is shared with. */
const MAX_SHARED_ACCOUNTS = 20;

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** What one CloudTrail record did to the account's RDS snapshots in its region (failed calls changed nothing). */
export function applyRdsRecord(state: SimRdsSnapshots, r: JsonObject): void {
  if (r['errorCode'] || r['eventSource'] !== 'rds.amazonaws.com') return;
  const p = (typeof r['requestParameters'] === 'object' && r['requestParameters'] !== null ? r['requestParameters'] : {}) as JsonObject;
  const name = text(r['eventName']) ?? '';
  const cluster = name.includes('DBCluster');
  const kind = cluster ? state.cluster : state.instance;
  const field = cluster ? 'dBClusterSnapshotIdentifier' : 'dBSnapshotIdentifier';
  switch (name) {
    case 'CreateDBSnapshot':
    case 'CreateDBClusterSnapshot': {
      const id = text(p[field]);
      if (id) kind[id] ??= { restore: [] };
      return;
    }
    case 'CopyDBSnapshot':
    case 'CopyDBClusterSnapshot': {
      const id = text(p[cluster ? 'targetDBClusterSnapshotIdentifier' : 'targetDBSnapshotIdentifier']);
      if (id) kind[id] ??= { restore: [] };
      return;
    }
    case 'ModifyDBSnapshotAttribute':
    case 'ModifyDBClusterSnapshotAttribute': {
      const id = text(p[field]);
      if (!id || text(p['attributeName']) !== 'restore') return;
      const snapshot = (kind[id] ??= { restore: [] });
      const removed = list(p['valuesToRemove']);
      snapshot.restore = [...new Set([...snapshot.restore, ...list(p['valuesToAdd'])])].filter((v) => !removed.includes(v));
      return;
    }
    case 'DeleteDBSnapshot':
    case 'DeleteDBClusterSnapshot': {
      const id = text(p[field]);
      if (id) delete kind[id];
      return;
    }
    default:
  }
}

export class SimulatedRdsSnapshots {
  private readonly states = new Map<string, SimRdsSnapshots>();
  /** How many of each account's and region's records the state has taken in. */
  private readonly applied = new Map<string, number>();

  constructor(private readonly hooks: SnapshotHooks) {}

  /** The RDS snapshots of an account in a region, with every record that arrived since the last call applied. */
  state(accountId: string, region: string): SimRdsSnapshots {
    const key = `${accountId}:${region}`;
    let state = this.states.get(key);
    if (!state) this.states.set(key, (state = { instance: {}, cluster: {} }));
    const records = this.hooks.records(accountId, region);
    for (const r of records.slice(this.applied.get(key) ?? 0)) applyRdsRecord(state, r);
    this.applied.set(key, records.length);
    return state;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- SDK command inputs read field by field
  call(accountId: string, region: string, name: string, input: Record<string, any>): unknown {
    const cluster = name.includes('DBCluster');
    const state = this.state(accountId, region);
    const id = String(input[cluster ? 'DBClusterSnapshotIdentifier' : 'DBSnapshotIdentifier'] ?? '');
    const snapshot = (cluster ? state.cluster : state.instance)[id];
    if (!snapshot)
      throw cluster
        ? this.hooks.fail('DBClusterSnapshotNotFoundFault', `DBClusterSnapshot ${id} not found.`, 404)
        : this.hooks.fail('DBSnapshotNotFoundFault', `DBSnapshot ${id} not found.`, 404);
    const result = () =>
      cluster
        ? {
            DBClusterSnapshotAttributesResult: {
              DBClusterSnapshotIdentifier: id,
              DBClusterSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: [...snapshot.restore] }],
            },
          }
        : {
            DBSnapshotAttributesResult: {
              DBSnapshotIdentifier: id,
              DBSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: [...snapshot.restore] }],
            },
          };
    if (name.startsWith('Describe')) return result();
    if (input['AttributeName'] !== 'restore')
      throw this.hooks.fail('InvalidParameterValue', `Invalid snapshot attribute ${String(input['AttributeName'])}`, 400);
    const add = list(input['ValuesToAdd']);
    const remove = list(input['ValuesToRemove']);
    const both = add.filter((v) => remove.includes(v));
    if (both.length)
      throw this.hooks.fail(
        'InvalidParameterCombination',
        `A value may not appear in both the add list and remove list. ${JSON.stringify(both)}`,
        400,
      );
    const next = [...new Set([...snapshot.restore, ...add])].filter((v) => !remove.includes(v));
    if (next.filter((v) => v !== 'all').length > MAX_SHARED_ACCOUNTS)
      throw this.hooks.fail(
        'SharedSnapshotQuotaExceededFault',
        'The request cannot be processed because it would exceed the maximum number of snapshots.',
        400,
      );
    const gone = snapshot.restore.filter((v) => remove.includes(v));
    snapshot.restore = next;
    for (const v of gone)
      this.hooks.change(accountId, cluster ? 'rds-remove-cluster-snapshot-share' : 'rds-remove-snapshot-share', `${id}/${v}`);
    return result();
  }
}
