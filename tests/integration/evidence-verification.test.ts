import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLocalBundle } from '#shared/evidence';
import { runDrill, type DrillResult } from '#drill/drill';
import { main } from '#cli/main';

/**
 * Evidence you can check from outside the bucket: the emails carry the evidence manifest's SHA-256
 * and the version ids; `root-responder verify-evidence DIR --digest HEX` checks a bundle against
 * the emailed digest. Someone who can write the folder can rewrite manifest.json and report.json
 * so that they agree with each other, but not the email in the responders' mailboxes.
 */
const sha256 = (body: Buffer | string) => createHash('sha256').update(body).digest('hex');
let result: DrillResult;
let outbox: { file: string; body: string }[];

beforeAll(async () => {
  result = await runDrill({ scenario: 'unknown-ip-no-mfa', approve: 'all', out: mkdtempSync(join(tmpdir(), 'evidence-')) });
  const dir = join(result.outDir, 'outbox');
  outbox = readdirSync(dir)
    .sort()
    .map((file) => ({ file, body: readFileSync(join(dir, file), 'utf8') }));
}, 120_000);

function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  return main(args, { stdout: (l) => out.push(l), stderr: (l) => err.push(l), readStdin: () => Promise.resolve('') }).then((code) => ({
    code,
    out,
    err,
  }));
}

/** The digest as a responder reads it in an email. */
const digestIn = (body: string) => /manifest\.json SHA-256: ([0-9a-f]{64})/.exec(body)?.[1];
const versionIn = (body: string, file: string) => new RegExp(`${file.replace('.', '\\.')} version id: (\\S+)`).exec(body)?.[1];

/** A copy of the incident's folder, as downloaded from the bucket. */
function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
  cpSync(result.outDir, dir, { recursive: true });
  return dir;
}

describe('evidence checkable outside the bucket', () => {
  it('the summary (the first email after the evidence exists) and the report email carry the digest and the version ids', () => {
    const report = JSON.parse(readFileSync(join(result.outDir, 'report.json'), 'utf8')) as {
      evidence: { manifestSha256: string; manifestVersionId: string };
    };
    const summary = outbox.find((m) => /Subject: \[root-responder\] CRITICAL incident /.test(m.body))!;
    const reportEmail = outbox.find((m) => /Subject: \[root-responder\] Report: /.test(m.body))!;
    const manifest = readFileSync(join(result.outDir, 'evidence', 'manifest.json'));
    for (const email of [summary, reportEmail]) {
      expect(digestIn(email.body)).toBe(sha256(manifest));
      expect(versionIn(email.body, 'manifest.json')).toBe(report.evidence.manifestVersionId);
    }
    expect(report.evidence.manifestSha256).toBe(sha256(manifest));
    expect(report.evidence.manifestVersionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    // The report email names each report file's version.
    for (const file of ['report.json', 'report.md', 'report.html'])
      expect(versionIn(reportEmail.body, file)).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('verifies the incident folder and the evidence folder against the emailed digest (exit 0)', async () => {
    const digest = digestIn(outbox.find((m) => /Report: /.test(m.body))!.body)!;
    for (const dir of [result.outDir, join(result.outDir, 'evidence')]) {
      const run = await cli(['verify-evidence', dir, '--digest', digest]);
      expect(run).toMatchObject({ code: 0, err: [] });
      expect(run.out.at(-1)).toMatch(/^verified: .*manifest\.json has the SHA-256 given, and its \d+ files match it/);
    }
  });

  it('removing a finding and rewriting manifest.json and report.json to agree still fails against the emailed digest (exit 1)', async () => {
    const digest = digestIn(outbox.find((m) => /Report: /.test(m.body))!.body)!;
    const dir = copy();
    const evidence = join(dir, 'evidence');
    // The attacker removes a finding ...
    const findingsFile = join(evidence, 'findings.json');
    const stored = JSON.parse(readFileSync(findingsFile, 'utf8')) as { findings: { id: string }[] };
    const removed = stored.findings.find((f) => f.id.startsWith('iam-user-'))!;
    stored.findings = stored.findings.filter((f) => f !== removed);
    const findingsBody = Buffer.from(`${JSON.stringify(stored, null, 2)}\n`);
    writeFileSync(findingsFile, findingsBody);
    // ... rewrites the manifest with the new size and hash ...
    const manifest = JSON.parse(readFileSync(join(evidence, 'manifest.json'), 'utf8')) as {
      files: { path: string; size: number; sha256: string }[];
    };
    const entry = manifest.files.find((f) => f.path === 'findings.json')!;
    entry.size = findingsBody.length;
    entry.sha256 = sha256(findingsBody);
    const manifestBody = `${JSON.stringify(manifest, null, 2)}\n`;
    writeFileSync(join(evidence, 'manifest.json'), manifestBody);
    // ... and report.json, so that it names the new manifest and lacks the finding.
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
      findings: { id: string }[];
      evidence: { manifestSha256: string };
    };
    report.findings = report.findings.filter((f) => f.id !== removed.id);
    report.evidence.manifestSha256 = sha256(manifestBody);
    writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);

    // What the folder alone can say: everything agrees (this is the weakness the emailed digest closes).
    const inside = await verifyLocalBundle(evidence);
    expect(inside).toEqual({ ok: true, mismatches: [], manifestSha256: report.evidence.manifestSha256 });

    const run = await cli(['verify-evidence', dir, '--digest', digest]);
    expect(run.code).toBe(1);
    expect(run.out).toEqual([
      `FAIL manifest.json: its SHA-256 is ${sha256(manifestBody)}, not the digest given (${digest}): this is not the manifest the email names`,
      `FAIL report.json: names manifest SHA-256 ${sha256(manifestBody)}, not the digest given (${digest})`,
      `NOT verified: 2 problems in ${dir} against digest ${digest}.`,
    ]);
  });

  it('names a changed, a missing and an added file (exit 1)', async () => {
    const digest = digestIn(outbox.find((m) => /Report: /.test(m.body))!.body)!;
    const dir = copy();
    const evidence = join(dir, 'evidence');
    const changed = join(evidence, 'account', 'alternate-contacts.json');
    const body = readFileSync(changed);
    body[10] = body[10]! ^ 1;
    writeFileSync(changed, body);
    writeFileSync(join(evidence, 'sign-ins.json'), Buffer.alloc(0));
    writeFileSync(join(evidence, 'planted.json'), '{}');
    const run = await cli(['verify-evidence', evidence, '--digest', digest.toUpperCase(), '--json']);
    expect(run.code).toBe(1);
    const check = JSON.parse(run.out.join('\n')) as { verified: boolean; problems: { path: string; problem: string }[] };
    expect(check.verified).toBe(false);
    expect(check.problems).toEqual(
      expect.arrayContaining([
        { path: 'account/alternate-contacts.json', problem: 'SHA-256 differs from the manifest' },
        { path: 'sign-ins.json', problem: expect.stringMatching(/^size 0, the manifest says \d+$/) as unknown },
        { path: 'planted.json', problem: 'in the bundle but not in the manifest' },
      ]),
    );
    expect(check.problems).toHaveLength(3);
  });

  it('usage errors and folders that hold no bundle: a clear message, exit 2', async () => {
    const digest = 'a'.repeat(64);
    const cases: [string[], RegExp][] = [
      [['verify-evidence'], /give the bundle folder/],
      [['verify-evidence', result.outDir], /give --digest, the manifest SHA-256 from the incident email/],
      [['verify-evidence', result.outDir, '--digest'], /--digest takes the manifest's SHA-256/],
      [['verify-evidence', result.outDir, '--digest', 'abc'], /--digest takes the 64 hex digits of a SHA-256, not "abc"/],
      [['verify-evidence', result.outDir, '--digest', digest, '--force'], /unknown option --force/],
      [['verify-evidence', '/nonexistent-bundle', '--digest', digest], /\/nonexistent-bundle: cannot read \(ENOENT\)/],
      [['verify-evidence', join(result.outDir, 'report.json'), '--digest', digest], /not a folder/],
      [['verify-evidence', join(result.outDir, 'outbox'), '--digest', digest], /no manifest\.json here or in .*outbox\/evidence/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      expect({ args, code: run.code, out: run.out }).toEqual({ args, code: 2, out: [] });
      expect(run.err.join('\n')).toMatch(message);
    }
  });
});
