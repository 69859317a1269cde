import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '#drill/deployment';
import { MANIFEST } from './manifest';

/**
 * Every AWS command the deployed code sends is checked by the contract tests, on moto or on a
 * stub that says why (manifest.ts); as least-privilege.test.ts holds the permissions to what the
 * handlers really call, this holds the manifest to the code. That each file really sent what the
 * manifest credits it with is checked by that file's last test (itKeepsTheManifestHonest).
 */
const FUNCTIONS = join(PROJECT_ROOT, 'functions');
const CONTRACT = join(PROJECT_ROOT, 'tests', 'contract');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** command -> the package it is imported from, and the files that construct it. */
function commandsInCode(): Map<string, { packages: Set<string>; files: Set<string> }> {
  const found = new Map<string, { packages: Set<string>; files: Set<string> }>();
  for (const file of sources(FUNCTIONS)) {
    const text = readFileSync(file, 'utf8');
    // local name -> the SDK's name and package (`import { X as Y }` constructs X under the name Y)
    const imports = new Map<string, { name: string; pkg: string }>();
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/[^']+)'/g)) {
      for (const [name, local = name] of m[1]!.split(',').map((n) =>
        n
          .replace(/^\s*type\s+/, '')
          .trim()
          .split(/\s+as\s+/),
      ))
        imports.set(local!, { name: name!, pkg: m[2]! });
    }
    for (const m of text.matchAll(/new\s+([A-Z][A-Za-z0-9]*Command)\s*\(/g)) {
      const name = imports.get(m[1]!)?.name ?? m[1]!;
      const entry = found.get(name) ?? { packages: new Set(), files: new Set() };
      entry.packages.add(imports.get(m[1]!)?.pkg ?? '(not imported from @aws-sdk)');
      entry.files.add(relative(PROJECT_ROOT, file));
      found.set(name, entry);
    }
  }
  return found;
}

describe('contract manifest', () => {
  const code = commandsInCode();

  it('finds the commands the code sends (functions/)', () => {
    expect(code.size).toBeGreaterThanOrEqual(40);
    expect(code.get('AssumeRootCommand')?.packages).toEqual(new Set(['@aws-sdk/client-sts']));
    expect([...code.keys()].some((c) => [...code.get(c)!.files].some((f) => f.startsWith('drill/')))).toBe(false);
  });

  it('each command name is one SDK command (one package), so the manifest can key on names', () => {
    const ambiguous = [...code]
      .filter(
        ([name, c]) =>
          // A name two packages share (S3's and S3 Control's GetPublicAccessBlockCommand) only where the manifest says so.
          (c.packages.size !== 1 && [...c.packages].sort().join() !== [...(MANIFEST[name]?.packages ?? [])].sort().join()) ||
          [...c.packages][0]!.startsWith('('),
      )
      .map(([name, c]) => `${name}: ${[...c.packages].join(', ')}`);
    expect(ambiguous).toEqual([]);
  });

  it('every command the code sends is in the manifest, and the manifest lists nothing the code does not send', () => {
    expect({ notInManifest: [...code.keys()].filter((c) => !MANIFEST[c]).sort() }).toEqual({ notInManifest: [] });
    expect({
      notInCode: Object.keys(MANIFEST)
        .filter((c) => !code.has(c))
        .sort(),
    }).toEqual({ notInCode: [] });
  });

  it('every stub and stand-in says why; every command is checked somewhere', () => {
    for (const [command, coverage] of Object.entries(MANIFEST)) {
      expect({ command, checks: coverage.checks.length > 0 && coverage.checks.every((c) => c.by.length > 0) }).toEqual({
        command,
        checks: true,
      });
      if (coverage.checks.some((c) => c.on !== 'moto'))
        expect({ command, why: Boolean(coverage.why ?? coverage.alsoStubbed) }).toEqual({ command, why: true });
    }
  });

  it('the files the manifest names exist and each checks its share (itKeepsTheManifestHonest)', () => {
    const named = new Set(Object.values(MANIFEST).flatMap((c) => c.checks.flatMap((check) => check.by)));
    for (const file of named) {
      const text = readFileSync(join(CONTRACT, file), 'utf8');
      expect({ file, honest: text.includes('itKeepsTheManifestHonest(__filename)') }).toEqual({ file, honest: true });
    }
    // audit.test.ts checks the command line's audit (cli/), which the manifest of deployed code does not cover.
    const contractFiles = readdirSync(CONTRACT).filter(
      (f) => f.endsWith('.test.ts') && !['manifest.test.ts', 'parity.test.ts', 'moto-server.test.ts', 'audit.test.ts'].includes(f),
    );
    expect(contractFiles.filter((f) => !named.has(f))).toEqual([]);
  });

  it('every command moto.ts stubs is listed as stubbed (nothing is stubbed silently)', () => {
    const helper = readFileSync(join(CONTRACT, 'moto.ts'), 'utf8');
    const stubbed = new Set([...helper.matchAll(/\[([A-Z][A-Za-z]+Command)\.name\]: (?:async )?\(/g)].map((m) => m[1]!));
    expect(stubbed.size).toBeGreaterThanOrEqual(7);
    for (const command of stubbed)
      expect({ command, listedAsStub: MANIFEST[command]?.checks.some((c) => c.on === 'stub') ?? false }).toEqual({
        command,
        listedAsStub: true,
      });
  });
});
