import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  listScenarios,
  loadScenario,
  rebase,
  repeatRecords,
  ScenarioError,
  scenarioJsonSchema,
  scenarioRecords,
  scenarioWorld,
  SCENARIOS_DIR,
  shiftRecords,
} from '#drill/scenario';
import { fixture } from '../helpers';

describe('scenarios', () => {
  it('bundles the documented scenarios, each valid', () => {
    expect(listScenarios().map((s) => s.name)).toEqual([
      'attacker-during-response',
      'data-exposure',
      'known-ip-with-mfa',
      'known-ip-with-mfa-then-admin',
      'large-incident',
      'management-account',
      'member-account',
      'member-without-root-access',
      'organization',
      'second-compromise',
      'sign-in-failures-only',
      'slow-responders',
      'unknown-ip-no-mfa',
    ]);
    for (const { name } of listScenarios())
      expect(() => scenarioRecords(loadScenario(name).scenario, SCENARIOS_DIR, new Date())).not.toThrow();
  });

  it('holds a later wave (afterEndMinutes) back: last in order, its own eventIDs, not yet in CloudTrail, moved when delivered', () => {
    const now = new Date('2026-11-30T12:00:00Z');
    const { scenario } = loadScenario('second-compromise');
    const records = scenarioRecords(scenario, SCENARIOS_DIR, now);
    const later = records.filter((r) => r.wave);
    expect(later.map((r) => [r.record['eventName'], r.record['eventTime'], r.wave])).toEqual([
      ['CreateAccessKey', '2026-11-30T12:00:00Z', { n: 1, afterEndMinutes: 2880 }],
    ]);
    expect(records.at(-1)).toBe(later[0]);
    const firstIds = new Set(records.filter((r) => !r.wave).map((r) => r.record['eventID']));
    expect(firstIds.has(later[0]!.record['eventID'])).toBe(false);
    const world = scenarioWorld(scenario, records);
    const inTrail = Object.values(world.accounts).flatMap((a) => Object.values(a.events).flat());
    expect(inTrail).toHaveLength(records.length - 1);
    expect(inTrail).not.toContain(later[0]!.record);
    const delivered = shiftRecords(later, 2 * 86_400_000);
    expect(delivered[0]!.record['eventTime']).toBe('2026-12-02T12:00:00Z');
    expect(later[0]!.record['eventTime']).toBe('2026-11-30T12:00:00Z');
  });

  it('keeps scenarios/scenario.schema.json equal to the schema the code validates with', () => {
    expect(JSON.parse(readFileSync(join(SCENARIOS_DIR, 'scenario.schema.json'), 'utf8'))).toEqual(scenarioJsonSchema());
  });

  it('names an unknown scenario and lists the bundled ones', () => {
    expect(() => loadScenario('nope')).toThrow(ScenarioError);
    expect(() => loadScenario('nope')).toThrow(/bundled: attacker-during-response, data-exposure, known-ip-with-mfa, /);
  });
});

describe('rebase', () => {
  const timeline = () =>
    fixture<Record<string, unknown>[]>('cloudtrail/timeline/panther_scenario__compromised_root_creds__attacker_cloudtrail.json');
  const now = new Date('2026-11-29T12:00:00Z');

  it('moves every record by one offset so the last ends N minutes before now, keeping order and spacing', () => {
    const records = timeline();
    const out = rebase([{ records, fromAccountId: '493859302102', accountId: '210987654321' }], { now, endMinutesAgo: 5, scenario: 's' });
    const before = records.map((r) => Date.parse(String(r['eventTime'])));
    const after = out.map((r) => Date.parse(String(r.record['eventTime'])));
    expect(Math.max(...after)).toBe(now.getTime() - 5 * 60_000);
    for (let i = 1; i < before.length; i++) expect(after[i]! - after[0]!).toBe(before[i]! - before[0]!);
  });

  it('replaces the source account id everywhere, and gives unique ids where samples reuse one', () => {
    const out = rebase([{ records: timeline(), fromAccountId: '493859302102', accountId: '210987654321' }], {
      now,
      endMinutesAgo: 5,
      scenario: 's',
    });
    const text = JSON.stringify(out);
    expect(text).not.toContain('493859302102');
    expect(out[6]!.record['responseElements']).toMatchObject({ user: { arn: 'arn:aws:iam::210987654321:user/tracy_stone' } });
    expect(new Set(out.map((r) => r.record['eventID'])).size).toBe(out.length);
    // Deterministic: the same scenario gives the same ids.
    const again = rebase([{ records: timeline(), fromAccountId: '493859302102', accountId: '210987654321' }], {
      now,
      endMinutesAgo: 5,
      scenario: 's',
    });
    expect(again.map((r) => r.record['eventID'])).toEqual(out.map((r) => r.record['eventID']));
  });

  it('does not modify the records it is given (the fixture files stay unchanged)', () => {
    const records = timeline();
    const copy = structuredClone(records);
    rebase([{ records, fromAccountId: '493859302102', accountId: '210987654321' }], { now, endMinutesAgo: 5, scenario: 's' });
    expect(records).toEqual(copy);
  });

  it('keeps real unique event ids as they are', () => {
    const record = fixture('cloudtrail/signin/flaws_usiem__console_login_success_root.json');
    const [out] = rebase([{ records: [record], accountId: '135792468013', fromAccountId: '811596193553' }], {
      now,
      endMinutesAgo: 1,
      scenario: 's',
    });
    expect(out!.record['eventID']).toBe(record['eventID']);
    expect(out!.record['recipientAccountId']).toBe('135792468013');
  });
});

describe('repeat', () => {
  const timeline = () =>
    fixture<Record<string, unknown>[]>('cloudtrail/timeline/panther_scenario__compromised_root_creds__attacker_cloudtrail.json');

  it('makes the records happen N times: numbered replacements, spaced in time, the input unchanged', () => {
    const records = [timeline()[6]!, timeline()[10]!];
    const copy = structuredClone(records);
    const out = repeatRecords(records, {
      count: 12,
      replace: { tracy_stone: 'intruder-{n}', AKIASWJJJ66ZZZII4IYY: 'AKIASWJJJ66ZZZII4I{n}' },
      everySeconds: 30,
    });
    expect(records).toEqual(copy);
    expect(out).toHaveLength(24);
    expect(out.map((r) => (r['requestParameters'] as { userName: string }).userName)).toEqual(
      Array.from({ length: 12 }, (_, i) => [
        `intruder-${String(i + 1).padStart(2, '0')}`,
        `intruder-${String(i + 1).padStart(2, '0')}`,
      ]).flat(),
    );
    expect(out[23]!['responseElements']).toMatchObject({ accessKey: { accessKeyId: 'AKIASWJJJ66ZZZII4I12', userName: 'intruder-12' } });
    expect(Date.parse(String(out[2]!['eventTime'])) - Date.parse(String(out[0]!['eventTime']))).toBe(30_000);
    expect(Date.parse(String(out[23]!['eventTime'])) - Date.parse(String(out[1]!['eventTime']))).toBe(11 * 30_000);
  });

  it('gives every copy its own eventID once rebased, and the account one user per repeated entry', () => {
    const { scenario, dir } = loadScenario('large-incident');
    const records = scenarioRecords(scenario, dir, new Date('2026-11-29T12:00:00Z'));
    expect(new Set(records.map((r) => r.record['eventID'])).size).toBe(records.length);
    const created = records
      .filter((r) => r.record['eventName'] === 'CreateUser')
      .map((r) => (r.record['requestParameters'] as { userName: string }).userName);
    expect(new Set(created).size).toBe(151);
    expect(
      records.filter(
        (r) =>
          r.record['eventName'] === 'ConsoleLogin' && (r.record['responseElements'] as { ConsoleLogin: string }).ConsoleLogin === 'Success',
      ),
    ).toHaveLength(301);
    const users = Object.values(scenarioWorld(scenario, records).accounts)[0]!.iamUsers;
    expect(users.map((u) => u.UserName).sort()).toEqual([...created].sort());
    expect(users.find((u) => u.UserName === 'tracy_stone_50')!.accessKeys).toEqual([
      { AccessKeyId: 'AKIASWJJJ66ZZZII4I50', Status: 'Active', CreateDate: '2020-11-01T08:37:03Z' },
    ]);
  });
});
