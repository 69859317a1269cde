import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDrill, type DrillResult } from '#drill/drill';
import { SCENARIOS_DIR } from '#drill/scenario';

/**
 * Root signs in to 50 member accounts of one organization within the same minutes: every account
 * gets its own incident and execution, each is contained through its own AssumeRoot session, and
 * CloudTrail's 2 calls/s per account and region holds while the 50 collections run at once.
 */
const MEMBERS = Array.from({ length: 50 }, (_, i) => String(200000000000 + i));
const MANAGEMENT = '999988887777';
const LOGIN = 'panther__aws_console_root_login__t0__successful_root_login.json';

function scenarioFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'org50-'));
  copyFileSync(join(SCENARIOS_DIR, 'data', LOGIN), join(dir, LOGIN));
  const file = join(dir, 'organization-50.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'organization-50',
      description: '50 member accounts at once',
      mode: 'organization',
      baseline: { expectedOrganizationId: 'o-a1b2c3d4e5' },
      organization: { id: 'o-a1b2c3d4e5', managementAccountId: MANAGEMENT, features: ['RootCredentialsManagement', 'RootSessions'] },
      accounts: [
        ...MEMBERS.map((accountId, i) => ({
          accountId,
          name: `workload-${i}`,
          root: { accessKeys: [{ AccessKeyId: `AKIAROOT${accountId}` }] },
          enabledRegions: ['us-east-1', 'eu-west-1'],
        })),
        { accountId: MANAGEMENT, name: 'management', root: {} },
      ],
      // Each member's sign-in is rebased on its own, spread over the last few minutes.
      sources: MEMBERS.map((accountId, i) => ({
        file: LOGIN,
        fromAccountId: '123456789012',
        account: accountId,
        endMinutesAgo: 2 + (i % 5),
      })),
    }),
  );
  return file;
}

describe('organization at scale: 50 member accounts at once', () => {
  let result: DrillResult;
  beforeAll(async () => {
    result = await runDrill({ scenario: scenarioFile(), approve: 'none', out: mkdtempSync(join(tmpdir(), 'org50-out-')) });
  }, 600_000); // 50 executions at once; a guard against a hang only, on a machine that may be busy (12 s idle, over 60 s beside six busy loops)

  it('opens 50 incidents and runs 50 executions, one per account, all to their end', () => {
    expect(
      result.intake
        .filter((i) => i.outcome === 'opened')
        .map((i) => i.incidentId!.slice(0, 12))
        .sort(),
    ).toEqual(MEMBERS);
    expect(result.executions).toHaveLength(50);
    expect(new Set(result.executions.map((e) => e.name.slice(0, 12))).size).toBe(50);
    expect(result.executions.filter((e) => e.status !== 'SUCCEEDED')).toEqual([]);
    expect(result.reports).toHaveLength(50);
  });

  it("deletes each member's root key exactly once, through an AssumeRoot session for that member", () => {
    const deleted = result.aws.changes.filter((c) => c.change === 'delete-root-access-key').map((c) => `${c.accountId} ${c.target}`);
    expect(deleted.sort()).toEqual(MEMBERS.map((id) => `${id} AKIAROOT${id}`));
    const sessions = result.aws.calls
      .filter((c) => c.command === 'AssumeRootCommand' && c.caller === 'containRootCredentials')
      .map((c) => (c.input as { TargetPrincipal: string }).TargetPrincipal);
    expect(sessions.sort()).toEqual(MEMBERS);
  });

  it('keeps every account and region at 2 LookupEvents calls per second while 50 collections run at once, with no throttling', () => {
    const lookups = result.aws.calls.filter((c) => c.command === 'LookupEventsCommand');
    const byAccountRegion = new Map<string, number[]>();
    for (const c of lookups)
      byAccountRegion.set(`${c.accountId} ${c.region}`, [...(byAccountRegion.get(`${c.accountId} ${c.region}`) ?? []), c.at]);
    // 50 members x 2 regions, looked up by evidence, verification and the password check.
    expect(byAccountRegion.size).toBe(100);
    let busiest = 0;
    for (const starts of byAccountRegion.values())
      for (const t of starts) busiest = Math.max(busiest, starts.filter((u) => u >= t && u < t + 1000).length);
    expect(busiest).toBe(2);
    expect(result.aws.calls.filter((c) => c.error === 'ThrottlingException')).toEqual([]);
  });
});
