import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The handlers as they deploy: each function's bundle, built by esbuild with exactly the options
 * `serverless package` gives serverless-esbuild (both read infra/esbuild.cjs), so the drill and the
 * tests run minified bundles, not the TypeScript sources. A test holds these files byte for byte
 * against the JavaScript inside the zips `serverless package` writes.
 *
 * Built once into `.build/bundles/` and rebuilt only when an input (a source file, a dependency,
 * the options, esbuild itself) changed: one esbuild call for every function (about 2 s on this
 * project), a stat of every input otherwise.
 */
export interface BundleSet {
  /** The folder the bundles are in: `<dir>/functions/<step>/handler.js`. */
  dir: string;
  /** Whether this call built them (false: the earlier build was still current). */
  built: boolean;
}

interface BuildRecord {
  key: string;
  entries: string[];
  inputs: Record<string, [size: number, mtimeMs: number]>;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const esbuildConfig = (root: string) => require(join(root, 'infra', 'esbuild.cjs')) as { esbuildOptions: Record<string, unknown> };

export function bundleDir(root: string): string {
  return join(root, '.build', 'bundles');
}

/** The built JavaScript of one entry (`functions/intake/handler.ts` -> `<dir>/functions/intake/handler.js`). */
export function bundlePath(dir: string, entry: string): string {
  return join(dir, entry.replace(/\.ts$/, '.js'));
}

function stamp(root: string, file: string): [number, number] | undefined {
  try {
    const s = statSync(join(root, file));
    return [s.size, s.mtimeMs];
  } catch {
    return undefined;
  }
}

function current(root: string, record: BuildRecord, key: string, entries: string[]): boolean {
  if (record.key !== key || record.entries.join('\n') !== entries.join('\n')) return false;
  for (const [file, [size, mtimeMs]] of Object.entries(record.inputs)) {
    const now = stamp(root, file);
    if (!now || now[0] !== size || now[1] !== mtimeMs) return false;
  }
  return entries.every((entry) => existsSync(bundlePath(bundleDir(root), entry)));
}

const checked = new Map<string, string>();

/** Build (or reuse) the bundles of the given entries, relative to the project root (checked once per process). */
export function ensureBundles(root: string, entries: string[]): BundleSet {
  const dir = bundleDir(root);
  const memo = `${root}\n${[...new Set(entries)].sort().join('\n')}`;
  if (checked.has(memo)) return { dir, built: false };
  const set = buildIfStale(root, entries);
  checked.set(memo, set.dir);
  return set;
}

function buildIfStale(root: string, entries: string[]): BundleSet {
  const dir = bundleDir(root);
  const recordFile = join(dir, 'build.json');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const options = esbuildConfig(root).esbuildOptions;
  const sorted = [...new Set(entries)].sort();
  const key = createHash('sha256')
    .update(JSON.stringify({ options, esbuild: esbuild.version, node: 'cjs' }))
    .digest('hex');
  if (existsSync(recordFile)) {
    try {
      if (current(root, JSON.parse(readFileSync(recordFile, 'utf8')) as BuildRecord, key, sorted)) return { dir, built: false };
    } catch {
      // An unreadable record: build again.
    }
  }
  // Build into a fresh folder and move it in place, so a concurrent reader never sees half a build.
  const staging = `${dir}.${process.pid}.${Date.now()}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const result = esbuild.buildSync({
    ...options,
    entryPoints: sorted,
    outbase: '.',
    outdir: staging,
    absWorkingDir: root,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs: BuildRecord['inputs'] = {};
  for (const file of Object.keys(result.metafile.inputs)) {
    const s = stamp(root, file);
    if (s) inputs[file] = s;
  }
  for (const extra of ['infra/esbuild.cjs', 'package-lock.json']) {
    const s = stamp(root, extra);
    if (s) inputs[extra] = s;
  }
  writeFileSync(join(staging, 'build.json'), JSON.stringify({ key, entries: sorted, inputs } satisfies BuildRecord));
  mkdirSync(join(root, '.build'), { recursive: true });
  const old = `${dir}.old.${process.pid}.${Date.now()}`;
  if (existsSync(dir)) renameSync(dir, old);
  try {
    renameSync(staging, dir);
  } catch (error) {
    // Another process moved its (equal) build in first: use that one.
    if (!existsSync(dir)) throw error;
    rmSync(staging, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
  return { dir, built: true };
}
