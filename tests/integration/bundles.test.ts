import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { bundleDir, bundlePath, ensureBundles } from '#drill/bundles';
import { aslTasks, deployedFunctions, loadHandler, PROJECT_ROOT, stateMachineDefinition, type AslState } from '#drill/deployment';
import { inLocalContext, DRILL_ENV } from '#drill/drill';
import { readZip } from '../helpers-zip';

/**
 * What the tests run is what deploys: the drill loads each function's bundle, built with the options
 * `serverless package` uses (infra/esbuild.cjs), minified. These tests hold that build against the
 * zips `serverless package` wrote, and check what minification could break: error class names, which
 * Lambda reports as the error type and the state machine's Retry / Catch match on.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { esbuildOptions } = require('../../infra/esbuild.cjs') as { esbuildOptions: Record<string, unknown> };
const PACKAGED = join(PROJECT_ROOT, '.serverless');
const functions = [...deployedFunctions().values()];

describe('the bundles the drill runs are the bundles that deploy', () => {
  const dir = ensureBundles(
    PROJECT_ROOT,
    functions.map((f) => f.modulePath),
  ).dir;

  it.each(functions.map((f) => [f.key, f]))('%s: the drill build is byte for byte the JavaScript in the packaged zip', async (key, f) => {
    const zip = join(PACKAGED, `${key}.zip`);
    if (!existsSync(zip)) throw new Error(`${zip} is missing: npm test runs \`serverless package --stage test\` first (npm run package)`);
    const files = await readZip(zip);
    const inZip = files.get(f.modulePath.replace(/\.ts$/, '.js'));
    expect(inZip).toBeDefined();
    const built = readFileSync(bundlePath(dir, f.modulePath));
    expect(built.length).toBe(inZip!.length);
    expect(built.equals(inZip!)).toBe(true);
  });

  it('builds into .build/bundles, minified, with keepNames', () => {
    expect(dir).toBe(bundleDir(PROJECT_ROOT));
    expect(esbuildOptions).toMatchObject({
      minify: true,
      keepNames: true,
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node24',
    });
  });
});

/** Every error class errors.ts exports, built with the deployed options and loaded. */
function bundledErrorClasses(options: Record<string, unknown>): Record<string, new (...args: never[]) => Error> {
  const out = join(mkdtempSync(join(tmpdir(), 'errors-bundle-')), 'errors.js');
  buildSync({ ...options, entryPoints: [join(PROJECT_ROOT, 'functions/shared/errors.ts')], outfile: out, logLevel: 'silent' } as never);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(out) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(mod).filter(([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof Error),
  ) as never;
}

/** One instance of a class, whatever its constructor wants (names do not depend on the arguments). */
function instance(C: new (...args: never[]) => Error): Error {
  return new (C as unknown as new (...args: unknown[]) => Error)('probe', ['probe'], { cause: new Error('probe') });
}

describe('error names survive the build', () => {
  it('every error class keeps its name in a bundle built with the deployed options', () => {
    const classes = bundledErrorClasses(esbuildOptions);
    expect(Object.keys(classes).length).toBeGreaterThan(15);
    for (const [exported, C] of Object.entries(classes)) expect({ exported, name: instance(C).name }).toEqual({ exported, name: exported });
  });

  it('the same build without keepNames loses them (the defect this guards against)', () => {
    const classes = bundledErrorClasses({ ...esbuildOptions, keepNames: false });
    const renamed = Object.entries(classes).filter(([exported, C]) => instance(C).name !== exported);
    expect(renamed.length).toBeGreaterThan(10);
  });

  it('every error name the state machine matches is one of our classes, thrown by a bundled handler, or an AWS name', () => {
    const names = new Set<string>();
    const visit = (states: Record<string, AslState>) => {
      for (const state of Object.values(states)) {
        for (const rule of [
          ...((state['Retry'] as { ErrorEquals: string[] }[] | undefined) ?? []),
          ...((state['Catch'] as { ErrorEquals: string[] }[] | undefined) ?? []),
        ])
          rule.ErrorEquals.forEach((n) => names.add(n));
        for (const branch of (state['Branches'] as { States: Record<string, AslState> }[] | undefined) ?? []) visit(branch.States);
        const processor = (state['ItemProcessor'] ?? state['Iterator']) as { States: Record<string, AslState> } | undefined;
        if (processor) visit(processor.States);
      }
    };
    const definition = stateMachineDefinition();
    visit(definition.States);
    const ours = [...names].filter((n) => !/^(States|Lambda|Sandbox)\./.test(n));
    expect(ours.sort()).toEqual(['ApprovalRejectedError', 'TransientAwsError']);
    const classes = bundledErrorClasses(esbuildOptions);
    const dir = bundleDir(PROJECT_ROOT);
    const bundledTasks = new Set(aslTasks(definition).map((t) => t.functionName));
    for (const name of ours) {
      expect(classes[name]).toBeDefined();
      // keepNames writes the class name into the bundle as a string: some Task's bundle (or the
      // approvals function, which fails a task token with it) can throw it under that name.
      const carriers = functions.filter(
        (f) =>
          (bundledTasks.has(f.key) || f.key === 'approvals') && readFileSync(bundlePath(dir, f.modulePath), 'utf8').includes(`"${name}"`),
      );
      expect({ name, carriers: carriers.length > 0 }).toEqual({ name, carriers: true });
    }
  });

  it('bundled handlers throw their typed errors under their own names', async () => {
    const context = { env: { ...DRILL_ENV } };
    const assess = loadHandler(deployedFunctions().get('assessIncident')!);
    await expect(inLocalContext(context, () => assess({ not: 'a workflow state' }))).rejects.toMatchObject({
      name: 'InvalidStepInputError',
    });
    const intake = loadHandler(deployedFunctions().get('intake')!);
    await expect(inLocalContext(context, () => intake('not an event'))).rejects.toMatchObject({ name: 'InvalidEventError' });
  });
});
