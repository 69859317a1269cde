import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PROJECT_ROOT } from '#drill/deployment';

/**
 * The layout's import rules (README, "How it is built"): a step imports functions/shared (and infra's
 * names), never another step; functions/shared imports only itself; nothing in functions/ imports
 * drill/ or cli/; functions/ holds Lambda code only.
 */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const ALIASES: Record<string, string> = {
  '#shared/': 'functions/shared/',
  '#functions/': 'functions/',
  '#drill/': 'drill/',
  '#cli/': 'cli/',
  '#infra/': 'infra/',
};

/** Where each import of a file points, relative to the project root ('' for packages). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import|require\()\s*'([^']+)'/g)].map((m) => m[1]!);
  return specs.flatMap((spec) => {
    const alias = Object.keys(ALIASES).find((a) => spec.startsWith(a));
    if (alias) return [ALIASES[alias] + spec.slice(alias.length)];
    if (spec.startsWith('.')) return [relative(PROJECT_ROOT, resolve(dirname(file), spec))];
    return [];
  });
}

const stepOf = (path: string) => /^functions\/([^/]+)\//.exec(path)?.[1];

describe('layout', () => {
  const code = files(join(PROJECT_ROOT, 'functions')).map((f) => relative(PROJECT_ROOT, f));

  it('functions/ holds Lambda code only: a folder per step and shared/', () => {
    const folders = readdirSync(join(PROJECT_ROOT, 'functions'));
    for (const folder of folders.filter((f) => f !== 'shared')) {
      expect({ folder, handler: code.includes(`functions/${folder}/handler.ts`) }).toEqual({ folder, handler: true });
    }
  });

  it('no step imports another step, and nothing in functions/ imports drill/ or cli/', () => {
    const offences: string[] = [];
    for (const file of code) {
      const own = stepOf(file);
      for (const target of importsOf(join(PROJECT_ROOT, file))) {
        if (target.startsWith('drill/') || target.startsWith('cli/')) offences.push(`${file} -> ${target}`);
        const other = stepOf(target);
        if (own === 'shared' && other && other !== 'shared') offences.push(`${file} -> ${target}`);
        if (own && own !== 'shared' && other && other !== 'shared' && other !== own) offences.push(`${file} -> ${target}`);
      }
    }
    expect(offences).toEqual([]);
  });
});
