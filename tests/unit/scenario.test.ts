import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScenarioError } from '#shared/errors';
import { listScenarios, loadScenario, rebase, scenarioJsonSchema, scenarioRecords, SCENARIOS_DIR } from '#local/scenario';
import { fixture } from '../helpers';

describe('scenarios', () => {
  it('bundles the documented scenarios, each valid', () => {
    expect(listScenarios().map((s) => s.name)).toEqual(['known-ip-with-mfa', 'management-account', 'member-account', 'member-without-root-access', 'organization', 'sign-in-failures-only', 'slow-responders', 'unknown-ip-no-mfa']);
    for (const { name } of listScenarios()) expect(() => scenarioRecords(loadScenario(name).scenario, SCENARIOS_DIR, new Date())).not.toThrow();
  });

  it('keeps scenarios/scenario.schema.json equal to the schema the code validates with', () => {
    expect(JSON.parse(readFileSync(join(SCENARIOS_DIR, 'scenario.schema.json'), 'utf8'))).toEqual(scenarioJsonSchema());
  });

  it('names an unknown scenario and lists the bundled ones', () => {
    expect(() => loadScenario('nope')).toThrow(ScenarioError);
    expect(() => loadScenario('nope')).toThrow(/bundled: known-ip-with-mfa, /);
  });
});

describe('rebase', () => {
  const timeline = () => fixture<Record<string, unknown>[]>('cloudtrail/timeline/panther_scenario__compromised_root_creds__attacker_cloudtrail.json');
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
    const out = rebase([{ records: timeline(), fromAccountId: '493859302102', accountId: '210987654321' }], { now, endMinutesAgo: 5, scenario: 's' });
    const text = JSON.stringify(out);
    expect(text).not.toContain('493859302102');
    expect(out[6]!.record['responseElements']).toMatchObject({ user: { arn: 'arn:aws:iam::210987654321:user/tracy_stone' } });
    expect(new Set(out.map((r) => r.record['eventID'])).size).toBe(out.length);
    // Deterministic: the same scenario gives the same ids.
    const again = rebase([{ records: timeline(), fromAccountId: '493859302102', accountId: '210987654321' }], { now, endMinutesAgo: 5, scenario: 's' });
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
    const [out] = rebase([{ records: [record], accountId: '135792468013', fromAccountId: '811596193553' }], { now, endMinutesAgo: 1, scenario: 's' });
    expect(out!.record['eventID']).toBe(record['eventID']);
    expect(out!.record['recipientAccountId']).toBe('135792468013');
  });
});
