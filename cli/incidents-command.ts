import { ListTablesCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AWSOrganizationsNotInUseException, type OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { isAwsError } from '#shared/errors';
import { denyRootScpName, detachCommand, detachDenyRootScp } from '#shared/remediations/deny-root-scp';
import { type IncidentMeta, IncidentStore } from '#shared/incident-store';
import type { DocumentClient } from '#shared/incidents-table';
import { INCIDENT_STATUSES, type IncidentStatus } from '#shared/schemas';
import { incidentsTablePrefix } from '#infra/names.cjs';
import type { CommandIO } from './triage-command';

/**
 * `root-responder incidents list|show|close ID --stage STAGE`: the incidents of a deployed stage, for
 * people. The stage's incidents table is found by its name (infra/names.cjs: CloudFormation names it
 * root-responder-<stage>-IncidentsTable-<random>); `--table NAME` names it outright.
 *   list [--status S] [--json]          every incident, newest first
 *   show ID [--json]                    one incident: status, what is left, who closed it and why, its events
 *   close ID --reason TEXT [--by NAME]  a person ends it as resolved (who: --by, else the caller's ARN) and the
 *                                       account is released; an incident already resolved is left alone. The
 *                                       account's deny-root SCP, if an incident attached one, is detached (run
 *                                       it from the management account or the delegated administrator).
 */
export interface IncidentsDeps {
  /** The document client over the stage's tables. */
  ddb: () => DocumentClient;
  /** For ListTables. */
  dynamodb: () => Pick<DynamoDBClient, 'send'>;
  sts: () => Pick<STSClient, 'send'>;
  /** The caller's Organizations (us-east-1): the released account's deny-root SCP comes off. */
  organizations: () => Pick<OrganizationsClient, 'send'>;
  now: () => Date;
}

const USAGE = [
  'usage: root-responder incidents list [--status STATUS] [--json] --stage STAGE',
  '       root-responder incidents show ID [--json] --stage STAGE',
  '       root-responder incidents close ID --reason TEXT [--by NAME] --stage STAGE',
  '       (--table NAME instead of --stage: the incidents table by its name)',
].join('\n');

/** A command-line problem the person can fix: printed, exit 2 (usage) or 1 (what the stage holds). */
class IncidentsCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
    this.name = 'IncidentsCommandError';
  }
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) throw new IncidentsCommandError(`incidents: ${name} needs a value`, 2);
  return value;
}

/** The stage's incidents table: exactly one table whose name begins with the stage's prefix. */
async function tableOf(args: string[], deps: IncidentsDeps): Promise<string> {
  const table = option(args, '--table');
  if (table) return table;
  const stage = option(args, '--stage');
  if (!stage || !/^[a-z0-9-]+$/.test(stage))
    throw new IncidentsCommandError('incidents: --stage STAGE is required (the stage you deployed, e.g. prod)', 2);
  const prefix = incidentsTablePrefix(stage);
  const names: string[] = [];
  let start: string | undefined;
  do {
    const out = await deps.dynamodb().send(new ListTablesCommand({ ...(start ? { ExclusiveStartTableName: start } : {}) }));
    names.push(...(out.TableNames ?? []).filter((n) => n.startsWith(prefix)));
    start = out.LastEvaluatedTableName;
  } while (start);
  if (names.length === 0)
    throw new IncidentsCommandError(`incidents: no table ${prefix}* in this account and region: is stage "${stage}" deployed here?`, 1);
  if (names.length > 1)
    throw new IncidentsCommandError(`incidents: more than one table matches ${prefix}* (${names.join(', ')}); name one with --table`, 1);
  return names[0]!;
}

function line(m: IncidentMeta): string {
  return [
    m.incidentId.padEnd(41),
    m.status.padEnd(15),
    `opened ${m.openedAt}`,
    m.closedAt ? `ended ${m.closedAt}` : '',
    m.openItems?.length ? `${m.openItems.length} open item(s)` : '',
    m.previousIncidentId ? `follows ${m.previousIncidentId}` : '',
  ]
    .filter(Boolean)
    .join('  ');
}

async function list(args: string[], store: IncidentStore, io: CommandIO): Promise<number> {
  const status = option(args, '--status');
  if (status && !(INCIDENT_STATUSES as readonly string[]).includes(status))
    throw new IncidentsCommandError(`incidents list: --status must be one of ${INCIDENT_STATUSES.join(', ')}`, 2);
  const incidents = (await store.list()).filter((m) => !status || m.status === status);
  if (args.includes('--json')) io.stdout(JSON.stringify(incidents, null, 2));
  else if (incidents.length === 0) io.stdout(status ? `No ${status} incidents.` : 'No incidents.');
  else for (const m of incidents) io.stdout(line(m));
  return 0;
}

async function show(id: string, args: string[], store: IncidentStore, io: CommandIO): Promise<number> {
  const meta = await store.meta(id);
  if (!meta) throw new IncidentsCommandError(`incidents show: no incident ${id}`, 1);
  const [open, events] = await Promise.all([store.openIncident(meta.accountId), store.events(id)]);
  const holdsAccount = open?.incidentId === id;
  if (args.includes('--json')) {
    io.stdout(JSON.stringify({ ...meta, holdsAccount, executionArn: holdsAccount ? (open?.executionArn ?? null) : null, events }, null, 2));
    return 0;
  }
  io.stdout(`Incident ${meta.incidentId}: ${meta.status}`);
  io.stdout(
    `Account ${meta.accountId}; severity ${meta.severity ?? 'unknown'}; opened ${meta.openedAt}${meta.closedAt ? `; ended ${meta.closedAt}` : ''}.`,
  );
  if (meta.previousIncidentId) io.stdout(`Follows incident ${meta.previousIncidentId} in the same account.`);
  if (holdsAccount)
    io.stdout(`Open: root events in ${meta.accountId} attach to it${open?.executionArn ? ` (execution ${open.executionArn})` : ''}.`);
  if (meta.closedBy) io.stdout(`Ended by ${meta.closedBy}${meta.reason ? `: ${meta.reason}` : ''}.`);
  if (meta.openItems?.length) {
    io.stdout('Still open:');
    for (const item of meta.openItems) io.stdout(`- ${item}`);
  }
  io.stdout(`${events.length} root event(s):`);
  for (const e of events)
    io.stdout(`- ${e.eventTime ?? e.receivedAt} ${e.eventName} [${e.severity}] from ${e.sourceIPAddress ?? 'unrecorded'}`);
  return 0;
}

const ALREADY_CLOSED: IncidentStatus[] = ['resolved', 'expected-use'];

async function close(id: string, args: string[], store: IncidentStore, io: CommandIO, deps: IncidentsDeps): Promise<number> {
  const reason = option(args, '--reason');
  if (!reason || reason.trim().length === 0)
    throw new IncidentsCommandError('incidents close: --reason TEXT is required (it is kept with the incident)', 2);
  const meta = await store.meta(id);
  if (!meta) throw new IncidentsCommandError(`incidents close: no incident ${id}`, 1);
  if (ALREADY_CLOSED.includes(meta.status))
    throw new IncidentsCommandError(`incidents close: ${id} is already ${meta.status}; nothing changed`, 1);
  const by = option(args, '--by') ?? (await deps.sts().send(new GetCallerIdentityCommand({}))).Arn;
  if (!by) throw new IncidentsCommandError('incidents close: could not tell who you are; say it with --by NAME', 2);
  const closedBy = `person: ${by}`.slice(0, 300);
  const ended = await store.close(
    meta.accountId,
    id,
    'resolved',
    deps.now().toISOString(),
    { closedBy, reason: reason.slice(0, 1000) },
    meta.status,
  );
  if (!ended)
    throw new IncidentsCommandError(
      `incidents close: ${id} changed while closing (now ${(await store.status(id)) ?? 'gone'}); look again`,
      1,
    );
  io.stdout(
    `Closed ${id} as resolved (${closedBy}; was ${meta.status}). Account ${meta.accountId} is released: its next root event opens a new incident.`,
  );
  if (meta.status === 'open')
    io.stdout('Its execution may still run: stop it in the Step Functions console if nobody should act on it any more.');
  return releaseDenyRootScp(meta.accountId, io, deps);
}

/**
 * The account is released, so the deny-root SCP an incident attached (named per account) comes off,
 * as Write Incident Report does when an incident ends resolved. Not in an organization: there is none.
 * Any other failure leaves root of the account denied (safe) and says how to detach it by hand: exit 1.
 */
async function releaseDenyRootScp(accountId: string, io: CommandIO, deps: IncidentsDeps): Promise<number> {
  try {
    const out = await detachDenyRootScp({ organizations: deps.organizations }, accountId);
    io.stdout(out.detail);
    return 0;
  } catch (error) {
    if (isAwsError(error, AWSOrganizationsNotInUseException)) {
      io.stdout(`${accountId} is not in an organization: no deny-root SCP to detach.`);
      return 0;
    }
    io.stderr(
      `incidents close: could not detach ${denyRootScpName(accountId)} from ${accountId} (${(error as Error).name}: ${(error as Error).message}); root of that account stays denied until you do: ${detachCommand(`<the id of ${denyRootScpName(accountId)}>`, accountId)}`,
    );
    return 1;
  }
}

export async function incidentsCommand(args: string[], io: CommandIO, deps: IncidentsDeps): Promise<number> {
  const [sub, id] = args;
  try {
    if (sub !== 'list' && sub !== 'show' && sub !== 'close') throw new IncidentsCommandError(USAGE, 2);
    if (sub !== 'list' && (!id || id.startsWith('--'))) throw new IncidentsCommandError(`incidents ${sub}: ID is required\n${USAGE}`, 2);
    const store = new IncidentStore(deps.ddb(), await tableOf(args, deps));
    if (sub === 'list') return await list(args, store, io);
    if (sub === 'show') return await show(id!, args, store, io);
    return await close(id!, args, store, io, deps);
  } catch (error) {
    if (error instanceof IncidentsCommandError) {
      io.stderr(error.message);
      return error.exitCode;
    }
    const e = error as Error;
    io.stderr(`incidents ${sub ?? ''}: ${e.name}: ${e.message}`);
    return 1;
  }
}
