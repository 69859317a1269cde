import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import { PROJECT_ROOT } from '#drill/deployment';
import { environmentBounds, LAMBDA_ENVIRONMENT_LIMIT } from '../helpers-environment';

/**
 * The configuration grows with the organization (a root MFA baseline per account, about 125 bytes
 * each in JSON); Lambda's environment does not (4 KB per function). A stage of 500 accounts is
 * packaged for real (`serverless package`, offline, in a copy of the service so the test stage's
 * .serverless/ stays as the other tests read it) and every function's environment is measured at
 * its upper bound, as tests/unit/template.test.ts measures the test stage.
 *
 * The code does not change with the stage's accounts, only the template does: the copy takes each
 * function's zip from the test stage's package (`package.artifact`, as `npm test` wrote it before
 * jest) instead of bundling all 16 again; config/load.cjs, the plugins that build the template and
 * the template itself run as in any package.
 */
const ACCOUNTS = 500;
const STAGE = 'scale';

/** A stage config of `count` member accounts, each with two root security keys, as config/example.json registers them. */
export function organizationConfig(count: number): Record<string, unknown> {
  const base = JSON.parse(readFileSync(join(PROJECT_ROOT, 'config', 'example.json'), 'utf8')) as Record<string, unknown>;
  const accounts = Array.from({ length: count }, (_, i) => String(100000000000 + i * 7919));
  return {
    ...base,
    mode: 'organization',
    expectedOrganizationId: 'o-a1b2c3d4e5',
    expectedRootMfaDevices: Object.fromEntries(
      accounts.map((id) => [id, [`arn:aws:iam::${id}:u2f/root/security-key-1`, `arn:aws:iam::${id}:u2f/root/security-key-2`]]),
    ),
  };
}

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe(`the packaged template for ${ACCOUNTS} accounts`, () => {
  let resources: Resources;
  let service: string;
  const config = organizationConfig(ACCOUNTS);

  beforeAll(async () => {
    service = mkdtempSync(join(tmpdir(), 'scale-service-'));
    for (const part of ['serverless.yml', 'package.json', 'tsconfig.json', 'functions', 'infra', 'config', 'statemachines'])
      cpSync(join(PROJECT_ROOT, part), join(service, part), { recursive: true });
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(service, 'node_modules'));
    writeFileSync(join(service, 'config', `${STAGE}.json`), JSON.stringify(config));
    const yml = parseDocument(readFileSync(join(service, 'serverless.yml'), 'utf8'));
    yml.set(
      'plugins',
      (yml.toJS() as { plugins: string[] }).plugins.filter((p) => p !== 'serverless-esbuild'),
    );
    for (const name of Object.keys((yml.toJS() as { functions: Record<string, unknown> }).functions)) {
      const zip = join(PROJECT_ROOT, '.serverless', `${name}.zip`);
      if (!existsSync(zip)) throw new Error(`${zip} is missing: run \`npm run package\` first (npm test does)`);
      yml.setIn(['functions', name, 'package'], { artifact: zip });
    }
    writeFileSync(join(service, 'serverless.yml'), yml.toString());
    await promisify(execFile)(process.execPath, [require.resolve('osls/bin/serverless.js'), 'package', '--stage', STAGE], {
      cwd: service,
      env: { ...process.env, AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_CONFIG_FILE: '/dev/null' },
      maxBuffer: 16 * 1024 * 1024,
    });
    resources = (
      JSON.parse(readFileSync(join(service, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8')) as {
        Resources: Resources;
      }
    ).Resources;
  }, 300_000);
  afterAll(() => rmSync(service, { recursive: true, force: true }));

  it('keeps every function environment under 4 KB, intrinsics at their upper bound', () => {
    const { environmentBytes } = environmentBounds(() => resources);
    const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(16);
    const sizes = Object.fromEntries(
      functions.map(([id, fn]) => [
        id,
        environmentBytes((fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables),
      ]),
    );
    const largest = Math.max(...Object.values(sizes));
    // The figure the README quotes (printed for the record).
    process.stdout.write(`largest environment for ${ACCOUNTS} accounts: ${largest} bytes\n`);
    expect(Object.entries(sizes).filter(([, bytes]) => bytes > LAMBDA_ENVIRONMENT_LIMIT)).toEqual([]);
  });

  it('carries the baseline of every account in the config object the stack writes, not in any environment', () => {
    const baseline = Object.values(resources).find((r) => r.Type === 'Custom::BaselineConfig');
    expect(baseline).toBeDefined();
    const body = JSON.parse(baseline!.Properties['Body'] as string) as { expectedRootMfaDevices: Record<string, string[]> };
    expect(Object.keys(body.expectedRootMfaDevices)).toHaveLength(ACCOUNTS);
    expect(body.expectedRootMfaDevices).toEqual(config['expectedRootMfaDevices']);
    // Beyond SSM's Advanced tier (8 KB): why the baseline is an S3 object (README "Configuration").
    expect(Buffer.byteLength(baseline!.Properties['Body'] as string)).toBeGreaterThan(8 * 1024);
    for (const [, fn] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function'))
      expect(JSON.stringify(fn.Properties['Environment'])).not.toContain('security-key');
  });
});
