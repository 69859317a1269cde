import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { extractRecords, type JsonObject } from '#shared/cloudtrail';
import { PROJECT_ROOT } from './deployment';
import type { SimAccount, SimWorld } from './simulated-aws';
import { asText } from '#shared/text';

/**
 * Drill scenarios: one JSON file each (scenarios/<name>.json, format in scenarios/scenario.schema.json,
 * generated from the zod schema below). A scenario seeds the simulated AWS (accounts, organization,
 * root credentials, contacts, trails, detectors) and names the CloudTrail records that happen, taken
 * from real published samples and rebased onto the scenario's account and onto "now" by `rebase`.
 */
/** A drill scenario file is missing or does not match the scenario format. */
export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

export const SCENARIOS_DIR = join(PROJECT_ROOT, 'scenarios');

const Contact = z.strictObject({ Name: z.string(), Title: z.string(), EmailAddress: z.string(), PhoneNumber: z.string() });
const Contacts = z.strictObject({ BILLING: Contact.optional(), OPERATIONS: Contact.optional(), SECURITY: Contact.optional() });
const AccountId = z.string().regex(/^\d{12}$/);
/** Access keys, of root or of an IAM user. */
const AccessKeys = z
  .array(
    z.strictObject({
      AccessKeyId: z.string(),
      Status: z.enum(['Active', 'Inactive']).default('Active'),
      CreateDate: z.string().default('2024-01-01T00:00:00Z'),
    }),
  )
  .default([]);

const AccountSchema = z.strictObject({
  accountId: AccountId,
  name: z.string(),
  email: z.string().default('root@example.com'),
  root: z.strictObject({
    accessKeys: AccessKeys,
    signingCertificates: z
      .array(
        z.strictObject({
          CertificateId: z.string(),
          Status: z.enum(['Active', 'Inactive']).default('Active'),
          UploadDate: z.string().default('2024-01-01T00:00:00Z'),
        }),
      )
      .default([]),
    mfaDevices: z
      .array(
        z.strictObject({
          SerialNumber: z.string(),
          kind: z.enum(['virtual', 'u2f', 'hardware']),
          EnableDate: z.string().default('2024-01-01T00:00:00Z'),
        }),
      )
      .default([]),
    password: z.boolean().default(true),
    credentialsRemoved: z.boolean().optional(),
  }),
  alternateContacts: Contacts.default({}),
  enabledRegions: z.array(z.string()).min(1).default(['us-east-1']),
  trails: z
    .array(z.strictObject({ Name: z.string(), HomeRegion: z.string(), IsMultiRegionTrail: z.boolean(), IsLogging: z.boolean() }))
    .default([]),
  detectors: z.record(z.string(), z.strictObject({ DetectorId: z.string(), Status: z.enum(['ENABLED', 'DISABLED']) })).default({}),
  iamUsers: z
    .array(
      z.strictObject({
        UserName: z.string(),
        CreateDate: z.string(),
        accessKeys: AccessKeys,
        loginProfile: z.boolean().default(false),
        /** This entry stands for that many users: `{n}` in its strings becomes 1, 2, ... (zero-padded to the count's width). */
        repeat: z.number().int().min(1).max(1000).optional(),
      }),
    )
    .default([]),
  /** IAM roles and their trust policies (JSON text): what a trust-policy restore reads and writes. */
  roles: z.array(z.strictObject({ RoleName: z.string(), AssumeRolePolicyDocument: z.string() })).default([]),
});

/** How the simulated responders answer (`--approve all` / `reject-all`); see ResponsePlan in drill.ts. */
const RespondersSchema = z.strictObject({
  /** Minutes a responder takes after an approval email before deciding (default 3). */
  afterMinutes: z.number().min(0).optional(),
  /** Per task id: another delay, answer only from the Nth reminder on, or never. */
  tasks: z
    .record(
      z.string(),
      z.strictObject({
        afterMinutes: z.number().min(0).optional(),
        fromReminder: z.number().int().min(0).optional(),
        never: z.boolean().optional(),
      }),
    )
    .optional(),
});

export const ScenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().regex(/^[a-z0-9-]+$/),
  description: z.string(),
  mode: z.enum(['standalone', 'organization']).default('standalone'),
  knownSourceCidrs: z.array(z.string()).default([]),
  responders: RespondersSchema.optional(),
  baseline: z
    .strictObject({
      alternateContacts: Contacts.default({}),
      expectedOrganizationId: z.string().nullable().default(null),
      /** Per account id: the root MFA devices the operators registered. */
      expectedRootMfaDevices: z.record(AccountId, z.array(z.string())).default({}),
    })
    .default({ alternateContacts: {}, expectedOrganizationId: null, expectedRootMfaDevices: {} }),
  organization: z
    .strictObject({
      id: z.string(),
      managementAccountId: AccountId,
      features: z.array(z.enum(['RootCredentialsManagement', 'RootSessions'])),
      delegatedAdmins: z.array(AccountId).default([]),
    })
    .optional(),
  /** Where the responder runs; default: the first account (standalone) or the management account. */
  responderAccountId: AccountId.optional(),
  accounts: z.array(AccountSchema).min(1),
  sources: z
    .array(
      z.strictObject({
        file: z.string(),
        /** The account id the published records carry, replaced by `account` when rebasing. */
        fromAccountId: z.string().optional(),
        /** The scenario account the records happen in (default: the first account). */
        account: AccountId.optional(),
        /** Only these records of the file (0-based positions), in this order. */
        pick: z.array(z.number().int().min(0)).optional(),
        /** Rebase this source on its own: its last record happens this many minutes before the drill starts. */
        endMinutesAgo: z.number().min(0).optional(),
        /**
         * A later wave: these records are held back until every execution started so far has ended,
         * then happen this many minutes (of drill time) later, their last record then, spacing kept,
         * each with a new eventID. Each source with it is its own wave, in file order.
         */
        afterEndMinutes: z.number().min(0).max(10_080).optional(),
        /**
         * Happen `count` times: in copy n (1, 2, ...) each `replace` key becomes its value, where `{n}` is
         * the copy's number zero-padded to the count's width; each copy is `everySeconds` after the one
         * before. The copies' eventIDs are then not unique, so each gets its own (see `rebase`).
         */
        repeat: z
          .strictObject({
            count: z.number().int().min(1).max(1000),
            replace: z.record(z.string(), z.string()).default({}),
            everySeconds: z.number().min(0).default(0),
          })
          .optional(),
      }),
    )
    .min(1),
  /** The last record happens this many minutes before the drill starts. */
  endMinutesAgo: z.number().min(0).default(5),
  /**
   * Records that happen while the responders do a console task (an attacker acting in the same
   * window): when the simulated responders do task `task`, the file's records land in the account's
   * CloudTrail at that moment, each with a fresh eventID.
   */
  duringTasks: z
    .array(z.strictObject({ task: z.string(), file: z.string(), fromAccountId: z.string().optional(), account: AccountId.optional() }))
    .optional(),
});
export type Scenario = z.infer<typeof ScenarioSchema>;

export function scenarioJsonSchema(): unknown {
  return z.toJSONSchema(ScenarioSchema, { io: 'input' });
}

export function listScenarios(): { name: string; description: string }[] {
  return readdirSync(SCENARIOS_DIR)
    .filter((f) => f.endsWith('.json') && f !== 'scenario.schema.json')
    .map((f) => {
      const s = ScenarioSchema.parse(JSON.parse(readFileSync(join(SCENARIOS_DIR, f), 'utf8')));
      return { name: s.name, description: s.description };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function loadScenario(nameOrFile: string): { scenario: Scenario; dir: string } {
  const file = nameOrFile.endsWith('.json')
    ? isAbsolute(nameOrFile)
      ? nameOrFile
      : resolve(nameOrFile)
    : join(SCENARIOS_DIR, `${nameOrFile}.json`);
  if (!existsSync(file)) {
    const known = existsSync(SCENARIOS_DIR)
      ? listScenarios()
          .map((s) => s.name)
          .join(', ')
      : '';
    throw new ScenarioError(`No scenario "${nameOrFile}"${known ? ` (bundled: ${known})` : ''}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ScenarioError(`${file}: not JSON (${(error as Error).message})`);
  }
  const parsed = ScenarioSchema.safeParse(raw);
  if (!parsed.success)
    throw new ScenarioError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return { scenario: parsed.data, dir: join(file, '..') };
}

export interface RebasedRecord {
  accountId: string;
  region: string;
  record: JsonObject;
  /** A later wave (`afterEndMinutes`): its number (1, 2, ...) and its delay; absent for the records that start the drill. */
  wave?: { n: number; afterEndMinutes: number };
}

/** Move a later wave's records by `offsetMs` (when the drill delivers them); the inputs are not modified. */
export function shiftRecords(records: RebasedRecord[], offsetMs: number): RebasedRecord[] {
  return records.map((r) => ({ ...r, record: shiftTimes(structuredClone(r.record), offsetMs) }));
}

function replaceDeep(value: unknown, from: string | undefined, to: string): unknown {
  if (typeof value === 'string') return from ? value.split(from).join(to) : value;
  if (Array.isArray(value)) return value.map((v) => replaceDeep(v, from, to));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceDeep(v, from, to)]));
  return value;
}

function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const TIME_FIELDS: string[][] = [['eventTime'], ['userIdentity', 'sessionContext', 'attributes', 'creationDate']];

/** Move a record's timestamps by `offset` ms (in place; returns the record). */
function shiftTimes(record: JsonObject, offset: number): JsonObject {
  for (const path of TIME_FIELDS) {
    let holder: Record<string, unknown> | undefined = record;
    for (const key of path.slice(0, -1)) holder = (holder?.[key] as Record<string, unknown> | undefined) ?? undefined;
    const last = path[path.length - 1]!;
    const t = Date.parse(String(holder?.[last]));
    if (holder && !Number.isNaN(t)) holder[last] = new Date(t + offset).toISOString().replace('.000Z', 'Z');
  }
  return record;
}

/** `{n}` in every string of `value` becomes `n`, zero-padded to the width of `count`. */
function numbered<T>(value: T, n: number, count: number): T {
  const text = String(n).padStart(String(count).length, '0');
  const visit = (v: unknown): unknown => {
    if (typeof v === 'string') return v.split('{n}').join(text);
    if (Array.isArray(v)) return v.map(visit);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, visit(x)]));
    return v;
  };
  return visit(value) as T;
}

/** A source's `repeat`: its records `count` times, each copy with its replacements and moved `everySeconds` later. */
export function repeatRecords(
  records: JsonObject[],
  repeat: { count: number; replace: Record<string, string>; everySeconds: number },
): JsonObject[] {
  const out: JsonObject[] = [];
  for (let n = 1; n <= repeat.count; n++) {
    for (const record of records) {
      let copy = structuredClone(record);
      for (const [from, to] of Object.entries(repeat.replace)) copy = replaceDeep(copy, from, numbered(to, n, repeat.count)) as JsonObject;
      out.push(shiftTimes(copy, (n - 1) * repeat.everySeconds * 1000));
    }
  }
  return out;
}

/**
 * Rebase published records onto a scenario: the source account id becomes the scenario account
 * everywhere it appears; every timestamp moves by the same offset so the last record happens
 * `endMinutesAgo` before `now` (order and spacing kept); eventIDs that are not unique within the
 * scenario (test samples reuse "1") get a deterministic UUID from the scenario name and position.
 * The inputs are not modified.
 */
export function rebase(
  sources: { records: JsonObject[]; fromAccountId?: string; accountId: string; endMinutesAgo?: number }[],
  options: { now: Date; endMinutesAgo: number; scenario: string },
): RebasedRecord[] {
  const all = sources.flatMap((s) => s.records.map((record) => ({ ...s, record })));
  const latest = (records: JsonObject[]) => {
    const times = records.map((r) => Date.parse(String(r['eventTime']))).filter((t) => !Number.isNaN(t));
    if (times.length === 0) throw new ScenarioError(`Scenario ${options.scenario}: no record has a readable eventTime`);
    return Math.max(...times);
  };
  // Sources with their own endMinutesAgo move on their own; the others keep their spacing together.
  const shared = sources.filter((s) => s.endMinutesAgo === undefined).flatMap((s) => s.records);
  const sharedOffset = shared.length > 0 ? options.now.getTime() - options.endMinutesAgo * 60_000 - latest(shared) : 0;
  const offsets = new Map(
    sources.map((s) => [
      s,
      s.endMinutesAgo === undefined ? sharedOffset : options.now.getTime() - s.endMinutesAgo * 60_000 - latest(s.records),
    ]),
  );
  const idCounts = new Map<string, number>();
  for (const a of all) idCounts.set(String(a.record['eventID']), (idCounts.get(String(a.record['eventID'])) ?? 0) + 1);
  return all.map((a, i) => {
    const offset = offsets.get(sources.find((s) => s.records === a.records)!)!;
    const record = shiftTimes(replaceDeep(structuredClone(a.record), a.fromAccountId, a.accountId) as JsonObject, offset);
    if ((idCounts.get(String(a.record['eventID'])) ?? 0) > 1 || !a.record['eventID'])
      record['eventID'] = uuidFrom(`${options.scenario}#${i}`);
    return { accountId: a.accountId, region: asText(record['awsRegion'] ?? 'us-east-1'), record };
  });
}

/** The records of a `duringTasks` entry, moved to `at` in the account (fresh eventIDs, the account id replaced). */
export function duringTaskRecords(
  entry: NonNullable<Scenario['duringTasks']>[number],
  scenario: Scenario,
  dir: string,
  at: Date,
): RebasedRecord[] {
  const path = join(dir, entry.file);
  if (!existsSync(path)) throw new ScenarioError(`Scenario ${scenario.name}: duringTasks file ${entry.file} not found`);
  const { records } = extractRecords(JSON.parse(readFileSync(path, 'utf8')), entry.file);
  const accountId = entry.account ?? scenario.accounts[0]!.accountId;
  return records.map((r, i) => {
    const record = (
      entry.fromAccountId ? replaceDeep(structuredClone(r.record), entry.fromAccountId, accountId) : structuredClone(r.record)
    ) as JsonObject;
    record['eventTime'] = new Date(at.getTime() + i * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    record['eventID'] = uuidFrom(`${scenario.name}#${entry.task}#${i}#${at.getTime()}`);
    return { accountId, region: asText(record['awsRegion'] ?? 'us-east-1'), record };
  });
}

/**
 * The scenario's records, rebased, in file order. A later wave's records (`afterEndMinutes`) come
 * last, rebased so their last record happens at `now` (the drill moves them to when it delivers them).
 */
export function scenarioRecords(scenario: Scenario, dir: string, now: Date): RebasedRecord[] {
  const sources = scenario.sources.map((source) => {
    const path = join(dir, source.file);
    if (!existsSync(path)) throw new ScenarioError(`Scenario ${scenario.name}: source ${source.file} not found`);
    const { records, problems } = extractRecords(JSON.parse(readFileSync(path, 'utf8')), source.file);
    if (problems.length > 0)
      throw new ScenarioError(`Scenario ${scenario.name}: ${problems.map((p) => `${p.origin}: ${p.message}`).join('; ')}`);
    const chosen = source.pick
      ? source.pick.map((i) => {
          const r = records[i];
          if (!r) throw new ScenarioError(`Scenario ${scenario.name}: ${source.file} has no record ${i}`);
          return r;
        })
      : records;
    return {
      records: source.repeat
        ? repeatRecords(
            chosen.map((r) => r.record),
            source.repeat,
          )
        : chosen.map((r) => r.record),
      ...(source.fromAccountId ? { fromAccountId: source.fromAccountId } : {}),
      ...(source.endMinutesAgo !== undefined ? { endMinutesAgo: source.endMinutesAgo } : {}),
      accountId: source.account ?? scenario.accounts[0]!.accountId,
      afterEndMinutes: source.afterEndMinutes,
    };
  });
  const first = rebase(
    sources.filter((s) => s.afterEndMinutes === undefined),
    { now, endMinutesAgo: scenario.endMinutesAgo, scenario: scenario.name },
  );
  const waves = sources
    .filter((s) => s.afterEndMinutes !== undefined)
    .flatMap((source, i) =>
      rebase([{ ...source, endMinutesAgo: 0 }], { now, endMinutesAgo: 0, scenario: scenario.name }).map((r, j) => {
        // A later wave is new activity: its own eventIDs, never the first wave's.
        r.record['eventID'] = uuidFrom(`${scenario.name}#wave${i + 1}#${j}`);
        return { ...r, wave: { n: i + 1, afterEndMinutes: source.afterEndMinutes! } };
      }),
    );
  return [...first, ...waves];
}

/** The simulated AWS a scenario describes, with its records in each account's CloudTrail. */
export function scenarioWorld(scenario: Scenario, records: RebasedRecord[]): SimWorld {
  const accounts: Record<string, SimAccount> = {};
  for (const a of scenario.accounts) {
    const iamUsers = a.iamUsers.flatMap(({ repeat, ...user }) =>
      repeat ? Array.from({ length: repeat }, (_, i) => numbered(user, i + 1, repeat)) : [user],
    );
    accounts[a.accountId] = {
      ...structuredClone(a),
      iamUsers,
      contactInformation: {
        FullName: a.name,
        AddressLine1: '1 Main St',
        City: 'Seattle',
        CountryCode: 'US',
        PhoneNumber: '+1-206-555-0100',
        PostalCode: '98101',
      },
      events: {},
    };
  }
  for (const r of records) {
    const account = accounts[r.accountId];
    if (!account)
      throw new ScenarioError(`Scenario ${scenario.name}: records for account ${r.accountId}, which the scenario does not define`);
    if (r.wave) continue; // a later wave reaches CloudTrail when it happens (the drill adds it then)
    (account.events[r.region] ??= []).push(r.record);
  }
  return {
    accounts,
    ...(scenario.organization ? { organization: { ...scenario.organization } } : {}),
    responderAccountId: scenario.responderAccountId ?? scenario.organization?.managementAccountId ?? scenario.accounts[0]!.accountId,
  };
}
