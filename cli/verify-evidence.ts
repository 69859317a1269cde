import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { z } from 'zod';
import { terminalJson, terminalText } from '#shared/text';
import type { CommandIO } from './triage-command';

/**
 * `root-responder verify-evidence DIR --digest HEX`: check an evidence bundle against the manifest
 * digest an email carries (the summary and the report email), outside the bucket. DIR is the
 * bundle (a folder holding manifest.json), or an incident's folder holding evidence/manifest.json
 * (as the drill writes it, and as `aws s3 cp --recursive s3://BUCKET/incidents/ID/ DIR` downloads it).
 *
 * Verified means: manifest.json's SHA-256 is the digest; every file it lists is there with its size
 * and SHA-256; no other file is in the bundle; and report.json, where there is one, names the same
 * digest. Rewriting manifest.json after changing a file changes its digest, so it fails here.
 */
export const USAGE = 'usage: root-responder verify-evidence DIR --digest SHA256HEX [--json]';

/** Bad usage or a folder that holds no bundle: exit 2. */
export class EvidenceInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvidenceInputError';
  }
}

const ManifestSchema = z.object({
  files: z.array(z.object({ path: z.string().min(1), size: z.number().int().min(0), sha256: z.string() }).strict()),
});

export interface EvidenceProblem {
  path: string;
  problem: string;
}

export interface EvidenceCheck {
  verified: boolean;
  /** The manifest checked, relative to DIR. */
  manifest: string;
  manifestSha256: string;
  digest: string;
  files: number;
  problems: EvidenceProblem[];
}

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

/** Where the bundle is: DIR itself, or DIR/evidence (an incident's folder). */
async function findManifest(dir: string): Promise<{ bundle: string; manifest: string }> {
  let info;
  try {
    info = await stat(dir);
  } catch (error) {
    throw new EvidenceInputError(`${dir}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!info.isDirectory()) throw new EvidenceInputError(`${dir}: not a folder (give the bundle's folder, which holds manifest.json)`);
  for (const bundle of [dir, join(dir, 'evidence')]) {
    if (await isFile(join(bundle, 'manifest.json'))) return { bundle, manifest: join(bundle, 'manifest.json') };
  }
  throw new EvidenceInputError(`${dir}: no manifest.json here or in ${join(dir, 'evidence')} (not an evidence bundle)`);
}

export async function verifyEvidence(dir: string, digestHex: string): Promise<EvidenceCheck> {
  const digest = digestHex.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(digest)) throw new EvidenceInputError(`--digest takes the 64 hex digits of a SHA-256, not "${digestHex}"`);
  const { bundle, manifest } = await findManifest(dir);
  const manifestBody = await readFile(manifest);
  const manifestSha256 = sha256(manifestBody);
  const problems: EvidenceProblem[] = [];
  const result = (files: number): EvidenceCheck => ({
    verified: problems.length === 0,
    manifest: relative(dir, manifest) || 'manifest.json',
    manifestSha256,
    digest,
    files,
    problems,
  });
  if (manifestSha256 !== digest)
    problems.push({
      path: 'manifest.json',
      problem: `its SHA-256 is ${manifestSha256}, not the digest given (${digest}): this is not the manifest the email names`,
    });

  let parsed: z.infer<typeof ManifestSchema>;
  try {
    const checked = ManifestSchema.safeParse(JSON.parse(manifestBody.toString('utf8')));
    if (!checked.success) {
      problems.push({ path: 'manifest.json', problem: `not a manifest: ${checked.error.issues[0]?.message ?? 'wrong shape'}` });
      return result(0);
    }
    parsed = checked.data;
  } catch (error) {
    problems.push({ path: 'manifest.json', problem: `not JSON (${(error as Error).message})` });
    return result(0);
  }

  const listed = new Set<string>();
  for (const entry of parsed.files) {
    const clean = normalize(entry.path);
    if (isAbsolute(clean) || clean === '..' || clean.startsWith(`..${sep}`)) {
      problems.push({ path: entry.path, problem: 'the manifest names a path outside the bundle' });
      continue;
    }
    if (listed.has(clean)) {
      problems.push({ path: entry.path, problem: 'listed twice in the manifest' });
      continue;
    }
    listed.add(clean);
    let body: Buffer;
    try {
      body = await readFile(join(bundle, clean));
    } catch {
      problems.push({ path: entry.path, problem: 'missing' });
      continue;
    }
    if (body.length !== entry.size) problems.push({ path: entry.path, problem: `size ${body.length}, the manifest says ${entry.size}` });
    else if (sha256(body) !== entry.sha256.toLowerCase()) problems.push({ path: entry.path, problem: 'SHA-256 differs from the manifest' });
  }
  for (const file of await filesUnder(bundle)) {
    const path = relative(bundle, file);
    if (path !== 'manifest.json' && !listed.has(path)) problems.push({ path, problem: 'in the bundle but not in the manifest' });
  }

  // An incident's folder: its report.json must name the same manifest.
  const reportFile = join(dir, 'report.json');
  if (bundle !== dir && (await isFile(reportFile))) {
    let named: unknown;
    try {
      named = (JSON.parse((await readFile(reportFile)).toString('utf8')) as { evidence?: { manifestSha256?: unknown } }).evidence
        ?.manifestSha256;
    } catch {
      named = undefined;
    }
    if (named !== digest)
      problems.push({ path: 'report.json', problem: `names manifest SHA-256 ${String(named)}, not the digest given (${digest})` });
  }
  return result(parsed.files.length);
}

/** Exit 0: verified; 1: the bundle does not match the digest; 2: usage, or no bundle to check. */
export async function verifyEvidenceCommand(args: string[], io: CommandIO): Promise<number> {
  let dir: string | undefined;
  let digest: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--digest') {
      digest = args[++i];
      if (!digest) {
        io.stderr(`verify-evidence: --digest takes the manifest's SHA-256 (64 hex digits) from the incident's email\n${USAGE}`);
        return 2;
      }
    } else if (arg.startsWith('--digest=')) digest = arg.slice('--digest='.length);
    else if (arg === '--json') json = true;
    else if (arg.startsWith('-')) {
      io.stderr(`verify-evidence: unknown option ${terminalText(arg)}\n${USAGE}`);
      return 2;
    } else if (dir === undefined) dir = arg;
    else {
      io.stderr(`verify-evidence: one folder only (got ${terminalText(dir)} and ${terminalText(arg)})\n${USAGE}`);
      return 2;
    }
  }
  if (!dir || !digest) {
    io.stderr(
      `verify-evidence: ${!dir ? 'give the bundle folder' : 'give --digest, the manifest SHA-256 from the incident email (the digest in report.json proves nothing to someone who can write the folder)'}\n${USAGE}`,
    );
    return 2;
  }
  let check: EvidenceCheck;
  try {
    check = await verifyEvidence(dir, digest);
  } catch (error) {
    if (!(error instanceof EvidenceInputError)) throw error;
    io.stderr(`verify-evidence: ${terminalText(error.message)}`);
    return 2;
  }
  if (json) io.stdout(terminalJson(check, 2));
  else {
    for (const p of check.problems) io.stdout(`FAIL ${terminalText(p.path)}: ${terminalText(p.problem)}`);
    io.stdout(
      check.verified
        ? `verified: ${terminalText(check.manifest)} has the SHA-256 given, and its ${check.files} files match it (size and SHA-256), with nothing added.`
        : `NOT verified: ${check.problems.length} problem${check.problems.length > 1 ? 's' : ''} in ${terminalText(dir)} against digest ${check.digest}.`,
    );
  }
  return check.verified ? 0 : 1;
}
