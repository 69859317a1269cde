import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync as readFile, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '#cli/main';
import { PROJECT_ROOT } from '#drill/deployment';
import { CLOUDTRAIL } from '../helpers';

function io(stdin = '') {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l), readStdin: () => Promise.resolve(stdin) },
  };
}

describe('root-responder triage', () => {
  it('prints one JSON line per record, for every container format', async () => {
    const t = io();
    const code = await main(
      [
        'triage',
        join(CLOUDTRAIL, 'timeline/panther_scenario__compromised_root_creds__attacker_cloudtrail.json'),
        join(CLOUDTRAIL, 'lookup_events/awsdocs_ct__lookup_events_cli_root_consolelogin.json'),
        join(CLOUDTRAIL, 'eventbridge/awsdocs_cwe__console_signin_root_envelope.json'),
      ],
      t.io,
    );
    expect(code).toBe(0);
    expect(t.err).toEqual([]);
    const lines = t.out.map((l) => JSON.parse(l) as { eventName: string; startsIncident: boolean; severity: string });
    expect(lines).toHaveLength(12 + 1 + 1);
    expect(lines.filter((l) => l.startsIncident)).toHaveLength(8 + 1 + 1);
  });

  it('reads stdin when no file is given, and applies --known-cidrs', async () => {
    const record = readFileSync(join(CLOUDTRAIL, 'signin/flaws_usiem__console_login_success_root.json'));
    const ip = (JSON.parse(record) as { sourceIPAddress: string }).sourceIPAddress;
    const t = io(record);
    expect(await main(['triage', '--known-cidrs', `${ip}/32`], t.io)).toBe(0);
    expect(JSON.parse(t.out[0]!)).toMatchObject({ severity: 'high', startsIncident: true });
  });

  it('names the bad file and what is wrong, still processes the others, and exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triage-'));
    writeFileSync(join(dir, 'broken.json'), '{"eventName": ');
    writeFileSync(join(dir, 'shape.json'), '{"hello": "world"}');
    writeFileSync(join(dir, 'noname.json'), '{"eventVersion": "1.08", "userIdentity": {"type": "Root"}}');
    const t = io();
    const code = await main(
      [
        'triage',
        join(dir, 'broken.json'),
        join(dir, 'shape.json'),
        join(dir, 'noname.json'),
        join(dir, 'missing.json'),
        join(CLOUDTRAIL, 'signin/flaws_usiem__console_login_success_root.json'),
      ],
      t.io,
    );
    expect(code).toBe(2);
    expect(t.out).toHaveLength(1);
    expect(t.err).toHaveLength(4);
    expect(t.err[0]).toMatch(/broken\.json: not JSON/);
    expect(t.err[1]).toMatch(/shape\.json: unknown shape/);
    expect(t.err[2]).toMatch(/noname\.json: CloudTrail record without eventName/);
    expect(t.err[3]).toMatch(/missing\.json: cannot read \(ENOENT\)/);
  });

  it('rejects a malformed --known-cidrs with exit 2', async () => {
    const t = io('{}');
    expect(await main(['triage', '--known-cidrs', 'office'], t.io)).toBe(2);
    expect(t.err[0]).toMatch(/--known-cidrs: Known source "office" is not a CIDR/);
  });

  it('the installed command runs: root-responder --help and triage', () => {
    const bin = join(PROJECT_ROOT, 'bin', 'root-responder.cjs');
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('root-responder triage [--known-cidrs CIDR,...] [FILE...]');
    const run = spawnSync(
      process.execPath,
      [bin, 'triage', join(CLOUDTRAIL, 'root_api/panther_scenario__attacker_cloudtrail__6__createuser.json')],
      { encoding: 'utf8' },
    );
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      eventName: 'CreateUser',
      isRoot: true,
      severity: 'critical',
      categories: ['iam-persistence'],
    });
    expect(run.stderr).toBe('');
  });
});

const readFileSync = (path: string): string => readFile(path, 'utf8');
