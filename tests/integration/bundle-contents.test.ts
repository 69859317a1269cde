import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { deployedFunctions, loadHandler, PROJECT_ROOT } from '#drill/deployment';
import { DRILL_ENV, inLocalContext } from '#drill/drill';
import { ScenarioSchema, scenarioWorld } from '#drill/scenario';
import { SimulatedAws } from '#drill/simulated-aws';
import { SimulatedDynamoDb } from '#drill/simulated-dynamodb';
import { SimulatedSns } from '#drill/simulated-sns';
import { fixedClock } from '#shared/clock';
import { virtualTimer } from '#shared/rate-limit';

/**
 * Each bundle carries only the SDK clients its step uses: a handler imports one factory module per
 * service (`#shared/clients/<service>`), and nothing else may pull a client into its bundle. Built
 * with the deployed options (infra/esbuild.cjs), as `serverless package` builds them.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { esbuildOptions } = require('../../infra/esbuild.cjs') as { esbuildOptions: Record<string, unknown> };
const functions = [...deployedFunctions().values()];

/** The SDK client package behind each factory module of functions/shared/clients/. */
const CLIENT_OF: Record<string, string | undefined> = {
  dynamodb: 'client-dynamodb',
  sfn: 'client-sfn',
  sns: 'client-sns',
  s3: 'client-s3',
  'secrets-manager': 'client-secrets-manager',
  iam: 'client-iam',
  sts: 'client-sts',
  cloudtrail: 'client-cloudtrail',
  account: 'client-account',
  organizations: 'client-organizations',
  guardduty: 'client-guardduty',
  events: 'client-eventbridge',
  ec2: 'client-ec2',
  'target-s3': 'client-s3',
  s3control: 'client-s3-control',
  rds: 'client-rds',
  kms: 'client-kms',
  lambda: 'client-lambda',
  ram: 'client-ram',
  target: undefined,
};

/** The @aws-sdk/client-* packages with code in each function's bundle. */
function clientsInBundles(): Map<string, string[]> {
  const result = buildSync({
    ...esbuildOptions,
    entryPoints: functions.map((f) => f.modulePath),
    outbase: '.',
    outdir: mkdtempSync(join(tmpdir(), 'bundle-contents-')),
    absWorkingDir: PROJECT_ROOT,
    metafile: true,
    write: false,
    logLevel: 'silent',
  } as never);
  const byEntry = new Map<string, string[]>();
  for (const output of Object.values(result.metafile.outputs)) {
    const packages = new Set<string>();
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const found = /node_modules\/@aws-sdk\/(client-[^/]+)\//.exec(input);
      if (found && bytesInOutput > 0) packages.add(found[1]!);
    }
    byEntry.set(output.entryPoint!, [...packages].sort());
  }
  return byEntry;
}

/** The clients a handler asks for: one per `#shared/clients/<service>` module it imports. */
function clientsNamedBy(modulePath: string): string[] {
  const source = readFileSync(join(PROJECT_ROOT, modulePath), 'utf8');
  const modules = [...source.matchAll(/from '#shared\/clients\/([a-z0-9-]+)'/g)].map((m) => m[1]!);
  for (const m of modules)
    if (!(m in CLIENT_OF)) throw new Error(`${modulePath} imports #shared/clients/${m}: add its SDK client to CLIENT_OF`);
  return [...new Set(modules.map((m) => CLIENT_OF[m]).filter((c): c is string => c !== undefined))].sort();
}

describe('each bundle carries only the SDK clients its handler names', () => {
  const inBundles = clientsInBundles();

  it.each(functions.map((f) => [f.key, f.modulePath]))('%s', (_key, modulePath) => {
    expect(inBundles.get(modulePath)).toEqual(clientsNamedBy(modulePath));
  });

  it('the containment path: intake DynamoDB, Organizations, Step Functions and SNS; snapshot and contain DynamoDB, IAM and STS (snapshot S3 too: the baseline)', () => {
    const of = (key: string) => inBundles.get(functions.find((f) => f.key === key)!.modulePath);
    // Organizations: in organization mode intake refuses events forwarded from accounts outside it (DescribeAccount).
    expect(of('intake')).toEqual(['client-dynamodb', 'client-organizations', 'client-sfn', 'client-sns']);
    expect(of('sendAlertDigest')).toEqual(['client-dynamodb', 'client-sns']);
    expect(of('snapshotRootCredentials')).toEqual(['client-dynamodb', 'client-iam', 'client-s3', 'client-sts']);
    expect(of('containRootCredentials')).toEqual(['client-dynamodb', 'client-iam', 'client-sts']);
    expect(of('sendReminder')).toEqual([]);
  });
});

describe('the bundled pipeline check names every service it calls', () => {
  // The drill runs the state machine's functions; the scheduled pipeline check runs here, in an organization.
  it('reads the accounts, their regions and their forwarding rules, with no undeclared service', async () => {
    const MANAGEMENT = '999988887777';
    const ids = [MANAGEMENT, '100000000001', '100000000002'];
    const scenario = ScenarioSchema.parse({
      name: 'pipeline',
      description: 'pipeline check',
      mode: 'organization',
      organization: { id: 'o-a1b2c3d4e5', managementAccountId: MANAGEMENT, features: [] },
      accounts: ids.map((accountId) => ({ accountId, name: `acct-${accountId}`, root: {}, enabledRegions: ['us-east-1', 'eu-west-1'] })),
      sources: [{ file: 'unused.json' }],
    });
    const start = '2026-03-01T00:00:00Z';
    const aws = new SimulatedAws(scenarioWorld(scenario, []), virtualTimer(Date.parse(start)));
    const clock = fixedClock(start);
    const binding = functions.find((f) => f.key === 'checkPipeline')!;
    const handler = loadHandler(binding);
    const check = await inLocalContext(
      {
        env: { ...DRILL_ENV, MODE: 'organization', RESPONDER_ACCOUNT_ID: MANAGEMENT, FORWARDING_REGIONS: 'us-east-1,eu-west-1' },
        dynamodb: new SimulatedDynamoDb() as never,
        sns: new SimulatedSns(() => clock.now()) as never,
        target: (target) => aws.targetClients(target),
        clock,
        metricsSink: () => undefined,
      },
      () => handler({}),
    );
    expect(check).toMatchObject({ accounts: 3, forwarders: 6, unreadable: [] });
    expect(new Set(aws.calls.map((c) => c.command))).toEqual(
      new Set(['ListAccountsCommand', 'ListRegionsCommand', 'AssumeRoleCommand', 'ListRulesCommand']),
    );
  });
});
