import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDrill } from '#drill/drill';
import { drillCommand } from '../../cli/drill-command';

/**
 * The drill's attacker-during-response scenario: while the simulated responders change the root
 * password from their known network, the attacker changes it too (the published Panther
 * PasswordUpdated record, from 111.111.111.111). The responders' root work is recognised as theirs;
 * the attacker's is still a finding. Run through the command line, as a responder would.
 */
interface Report {
  findings: { id: string; title: string; evidence: string[]; resolution?: { text: string } }[];
  responderActivity: { eventName: string; taskId: string; status: string; sourceIPAddress: string }[];
  timeline: { event: string }[];
  openItems: string[];
  status: string;
}

describe('drill: attacker-during-response, through the command line', () => {
  let lines: string[];
  let report: Report;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drill-'));
    lines = [];
    const code = await drillCommand(['--scenario', 'attacker-during-response', '--approve', 'all', '--out', dir], {
      stdout: (l) => lines.push(l),
      stderr: (l) => lines.push(`ERR ${l}`),
      readStdin: () => Promise.resolve(''),
    });
    expect(code).toBe(0);
    report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
  });

  it("recognises the responders' sign-ins, password change and MFA key as theirs, never as findings", () => {
    const ours = report.responderActivity.filter((a) => a.status === 'confirmed');
    expect(ours.map((a) => `${a.taskId} ${a.eventName}`)).toEqual(
      expect.arrayContaining([
        'change-root-password PasswordUpdated',
        'enable-root-mfa EnableMFADevice',
        'delete-root-access-keys DeleteAccessKey',
      ]),
    );
    expect(ours.every((a) => a.sourceIPAddress === '203.0.113.10')).toBe(true);
    expect(report.findings.filter((f) => f.evidence.some((id) => id.startsWith('drill-')))).toEqual([]);
    expect(report.findings.map((f) => f.title).filter((t) => /PasswordUpdated|password changed from 203\.0\.113/.test(t))).toEqual([]);
    expect(
      report.timeline.some((t) => t.event.startsWith('responder activity for task Change the root password: root PasswordUpdated')),
    ).toBe(true);
  });

  it("still flags the attacker's PasswordUpdated in the same window, from outside the known networks", () => {
    const theirs = report.findings.filter((f) =>
      f.title.includes('Root password changed from 111.111.111.111, outside the known networks'),
    );
    expect(theirs).toHaveLength(1);
    expect(theirs[0]!.title).toMatch(/^Arrived after the first collection: /);
  });

  it("keeps the incident open while the attacker's late password change is still true: change it again", () => {
    // Every task approved, done and verified, the exposures undone among them: only the late critical finding is left.
    const theirs = report.findings.find((f) => f.title.includes('Root password changed from 111.111.111.111'))!;
    expect(theirs.resolution).toBeUndefined();
    expect(report.openItems).toEqual([
      `${theirs.title.replace('Arrived after the first collection: ', '')}, after the responders' change: change it again and check the root MFA devices`,
    ]);
    expect(report.openItems[0]).toMatch(/^Root password changed from 111\.111\.111\.111, outside the known networks, at /);
    expect(report.status).toBe('needs-attention');
  });

  it('names Map items by their task, and prints "Still open" with what is', () => {
    expect(lines).toContain('  > Request Approval  [change-root-password]  waiting on people...');
    expect(lines.some((l) => /\[item \d+\]/.test(l))).toBe(false);
    expect(lines).toContain('Still open:');
    expect(lines).not.toContain('Nothing is open.');
  });

  it('says "Nothing is open." and prints no empty "Still open:" heading when nothing is (member-account, every approval given)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drill-'));
    const out: string[] = [];
    const code = await drillCommand(['--scenario', 'member-account', '--approve', 'all', '--out', dir], {
      stdout: (l) => out.push(l),
      stderr: (l) => out.push(`ERR ${l}`),
      readStdin: () => Promise.resolve(''),
    });
    expect(code).toBe(0);
    expect((JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report).openItems).toEqual([]);
    expect(out).not.toContain('Still open:');
    expect(out).toContain('Nothing is open.');
  });
});

describe('drill: --approve all in an organization (three incidents)', () => {
  it("reports none of the responders' root work as an attacker finding, in any account", async () => {
    const result = await runDrill({ scenario: 'organization', approve: 'all', out: mkdtempSync(join(tmpdir(), 'drill-')) });
    expect(result.reports).toHaveLength(3);
    for (const { dir } of result.reports) {
      const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
      expect(report.responderActivity.filter((a) => a.status === 'confirmed').length).toBeGreaterThan(0);
      expect(report.findings.filter((f) => f.evidence.some((id) => id.startsWith('drill-')))).toEqual([]);
    }
  });
});
