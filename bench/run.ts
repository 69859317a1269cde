/**
 * `npm run bench`: one table of the numbers this project promises, measured side by side in one
 * run. Timing is by process CPU and wall clock here, never asserted in tests. On a fresh clone it
 * packages first (the bundle rows need the Lambda zips).
 */
import '../drill/polyfills';
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import yauzl from 'yauzl';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { JsonObject } from '../functions/shared/cloudtrail';
import { classifyWindow } from '../functions/shared/findings';
import { RateLimiters, virtualTimer } from '../functions/shared/rate-limit';
import { defaultTriageContext, triage } from '../functions/shared/triage';
import { PAGE_SIZE, reviewRegions } from '../functions/shared/cloudtrail-review';
import { runDrill } from '../drill/drill';
import { listScenarios } from '../drill/scenario';
import { SimulatedAws } from '../drill/simulated-aws';
import type { ExecutionInput } from '../functions/shared/contracts/execution-input';
import { containRootCredentials } from '../functions/contain-root-credentials/contain-root-credentials';
import { snapshotRootCredentials } from '../functions/snapshot-root-credentials/snapshot-root-credentials';

const rows: [string, string, string][] = [];
const row = (what: string, value: string, note = '') => rows.push([what, value, note]);

function cpu<T>(run: () => T): { result: T; ms: number } {
  const start = process.cpuUsage();
  const result = run();
  const used = process.cpuUsage(start);
  return { result, ms: (used.user + used.system) / 1000 };
}

async function cpuAsync<T>(run: () => Promise<T>): Promise<{ result: T; ms: number; wallMs: number }> {
  const start = process.cpuUsage();
  const t0 = performance.now();
  const result = await run();
  const used = process.cpuUsage(start);
  return { result, ms: (used.user + used.system) / 1000, wallMs: performance.now() - t0 };
}

function rootEvent(i: number, region: string, end: number): JsonObject {
  const kinds = [
    ['RunInstances', 'ec2.amazonaws.com', false],
    ['DescribeInstances', 'ec2.amazonaws.com', true],
    ['CreateUser', 'iam.amazonaws.com', false],
    ['ListBuckets', 's3.amazonaws.com', true],
    ['StopLogging', 'cloudtrail.amazonaws.com', false],
    ['PutBucketPolicy', 's3.amazonaws.com', false],
  ] as const;
  const [name, source, readOnly] = kinds[i % kinds.length]!;
  return {
    eventVersion: '1.08',
    eventID: `${region}-${i}`,
    eventTime: new Date(end - i * 1000).toISOString(),
    eventSource: source,
    eventName: name,
    awsRegion: region,
    readOnly,
    sourceIPAddress: '198.51.100.7',
    requestParameters: name === 'CreateUser' ? { userName: `user-${i % 7}` } : { name: 'trail' },
    userIdentity: { type: 'Root', accountId: '111122223333', arn: 'arn:aws:iam::111122223333:root', principalId: '111122223333' },
    recipientAccountId: '111122223333',
  };
}

async function cloudTrailReview(): Promise<void> {
  const REGIONS = 20;
  const EVENTS = 2000;
  const end = Date.parse('2026-01-08T00:00:00Z');
  const regions = Array.from({ length: REGIONS }, (_, i) => `xx-region-${i + 1}`);
  const timer = virtualTimer(end);
  const events = Object.fromEntries(regions.map((r) => [r, Array.from({ length: EVENTS }, (_, i) => rootEvent(i, r, end))]));
  const aws = new SimulatedAws(
    {
      accounts: {
        '111122223333': {
          accountId: '111122223333',
          name: 'bench',
          email: 'x',
          root: { accessKeys: [], signingCertificates: [], mfaDevices: [], password: true },
          alternateContacts: {},
          contactInformation: {},
          enabledRegions: regions,
          trails: [],
          detectors: {},
          iamUsers: [],
          events,
        },
      },
      responderAccountId: '111122223333',
    },
    timer,
  );
  const deps = {
    cloudtrail: (region: string) => aws.client({ region }) as unknown as CloudTrailClient,
    limiters: new RateLimiters(2, timer),
    timer,
    accountId: '111122223333',
  };
  const query = [
    {
      label: 'root',
      attribute: { AttributeKey: 'Username' as const, AttributeValue: 'root' },
      startTime: new Date(end - 8 * 86400_000),
      endTime: new Date(end),
    },
  ];
  const { result, ms, wallMs } = await cpuAsync(() => reviewRegions(regions, () => query, deps));
  const pagesPerRegion = Math.ceil(EVENTS / PAGE_SIZE);
  const floorMs = (pagesPerRegion - 1) * 500;
  const calls = result.stats.reduce((n, s) => n + s.calls, 0);
  const peak = Math.max(
    ...regions.map((r) => {
      const starts = aws.calls.filter((c) => c.region === r).map((c) => c.at);
      return Math.max(...starts.map((t) => starts.filter((u) => u >= t && u < t + 1000).length));
    }),
  );
  row(`CloudTrail review, ${REGIONS} regions x ${EVENTS} root events`, `${result.events.length} events`, `all pages of all regions`);
  row('  LookupEvents calls', `${calls}`, `ideal: one per page = ${REGIONS * pagesPerRegion}`);
  row(
    '  simulated wall time',
    `${(timer.elapsed / 1000).toFixed(1)} s`,
    `floor at 2 calls/s/region, regions in parallel: ${(floorMs / 1000).toFixed(1)} s`,
  );
  row('  peak calls in any 1 s window, per region', `${peak}`, 'limit 2');
  row('  CPU / real time for the whole review', `${ms.toFixed(0)} ms / ${wallMs.toFixed(0)} ms`, 'simulated AWS included');
  const windowEvents = result.events.map((e) => ({ region: e.region, record: e.record, query: 'root' }));
  const ctx = defaultTriageContext();
  const classified = cpu(() => classifyWindow(windowEvents, ctx));
  row(
    `  classify the ${windowEvents.length} events into findings`,
    `${classified.ms.toFixed(0)} ms CPU`,
    `${classified.result.findings.length} findings`,
  );
}

function triageThroughput(): void {
  const N = 100_000;
  const end = Date.parse('2026-01-08T00:00:00Z');
  const records = Array.from({ length: N }, (_, i) => rootEvent(i, 'us-east-1', end));
  const ctx = defaultTriageContext(['203.0.113.0/24']);
  triage(records[0]!, ctx); // warm up
  const { ms, result } = cpu(() => {
    let critical = 0;
    for (const r of records) if (triage(r, ctx).severity === 'critical') critical += 1;
    return critical;
  });
  row(`triage ${N.toLocaleString('en')} events`, `${ms.toFixed(0)} ms CPU`, `${(N / (ms / 1000)).toFixed(0)} events/s; ${result} critical`);
}

/** Every entry of a zip file into a folder (yauzl: no system unzip needed). */
function extractZip(file: string, target: string): Promise<void> {
  return new Promise((resolveDone, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error(`cannot open ${file}`));
      zip.on('error', reject);
      zip.on('end', () => resolveDone());
      zip.on('entry', (entry: yauzl.Entry) => {
        const path = join(target, entry.fileName);
        if (!path.startsWith(target)) return reject(new Error(`${file}: entry ${entry.fileName} escapes the folder`));
        if (entry.fileName.endsWith('/')) {
          mkdirSync(path, { recursive: true });
          return zip.readEntry();
        }
        mkdirSync(dirname(path), { recursive: true });
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError ?? new Error(`cannot read ${entry.fileName}`));
          stream
            .pipe(createWriteStream(path))
            .on('finish', () => zip.readEntry())
            .on('error', reject);
        });
      });
      zip.readEntry();
    });
  });
}

function findFile(dir: string, name: string): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findFile(path, name);
      if (found) return found;
    } else if (entry.name === name) return path;
  }
  return undefined;
}

/** Total size of every file under a folder (a bundle as Lambda unpacks it). */
function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}

/** The functions an incident passes through before its root credentials are deleted. */
const CONTAINMENT_PATH = ['intake', 'snapshotRootCredentials', 'containRootCredentials'] as const;

async function bundleSizes(): Promise<void> {
  const root = join(__dirname, '..');
  const dir = join(root, '.serverless');
  if (!existsSync(dir) || !readdirSync(dir).some((f) => f.endsWith('.zip'))) {
    // A fresh clone: package first (offline, no credentials), as `npm test` does.
    process.stderr.write('bench: no Lambda bundles yet; running `serverless package --stage test` (offline) first...\n');
    execFileSync(process.execPath, [join(root, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'test'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const zips = readdirSync(dir)
    .filter((f) => f.endsWith('.zip'))
    .sort();
  const work = mkdtempSync(join(tmpdir(), 'bench-bundles-'));
  const bundles: { name: string; kb: number; unzippedKb: number; initMs: number }[] = [];
  for (const zip of zips) {
    const target = join(work, zip.replace(/\.zip$/, ''));
    await extractZip(join(dir, zip), target);
    const entry = findFile(target, 'handler.js');
    if (!entry) throw new Error(`${zip}: no handler.js inside`);
    // Cold initialisation: load the bundle's handler module in a fresh Node process (module init only).
    const script = `const t=process.hrtime.bigint();require(${JSON.stringify(entry)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
    const runs = [0, 1, 2].map(() =>
      Number(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' } }).toString()),
    );
    bundles.push({
      name: zip.replace(/\.zip$/, ''),
      kb: statSync(join(dir, zip)).size / 1024,
      unzippedKb: folderBytes(target) / 1024,
      initMs: runs.sort((a, b) => a - b)[1]!,
    });
  }
  const over = bundles.filter((b) => b.kb > 500);
  const kb = (n: number) => `${n.toFixed(0)} KB`.padStart(7);
  const sizes = (zipped: number, unzipped: number) => `${kb(zipped)} / ${kb(unzipped)}`;
  row(
    `Lambda bundles (${bundles.length}, minified, SDK bundled): zipped / unzipped`,
    `max ${sizes(Math.max(...bundles.map((b) => b.kb)), Math.max(...bundles.map((b) => b.unzippedKb)))}`,
    `goal <= 500 KB zipped each: ${over.length === 0 ? 'met' : `over: ${over.map((b) => b.name).join(', ')}`}; cold init: require in a fresh process, median of 3`,
  );
  for (const b of bundles.sort((x, y) => y.kb - x.kb)) row(`  ${b.name}`, sizes(b.kb, b.unzippedKb), `cold init ${b.initMs.toFixed(0)} ms`);
  const path = CONTAINMENT_PATH.map((name) => bundles.find((b) => b.name === name));
  if (path.every((b) => b !== undefined)) {
    const total = path.reduce((n, b) => n + b.initMs, 0);
    row(
      '  cold inits on the containment path',
      `${total.toFixed(0)} ms`,
      `${path.map((b) => `${b.name} ${b.initMs.toFixed(0)}`).join(' + ')} ms (goal < 300 ms)`,
    );
  }
}

/** The containment path in a member account: execution start to the last root credential deleted. */
async function containmentPath(): Promise<void> {
  const LATENCY = 100;
  const MGMT = '999988887777';
  const MEMBER = '444455556666';
  const timer = virtualTimer(0);
  const account = (accountId: string, keys: number) => ({
    accountId,
    name: accountId,
    email: 'x',
    root: {
      accessKeys: Array.from({ length: keys }, (_, i) => ({
        AccessKeyId: `AKIAROOTKEY${String(i).padStart(9, '0')}`,
        Status: 'Active' as const,
        CreateDate: '2024-01-01T00:00:00Z',
      })),
      signingCertificates: [{ CertificateId: 'CERTROOT000000000000000001', Status: 'Active' as const, UploadDate: '2024-01-01T00:00:00Z' }],
      mfaDevices: [],
      password: true,
    },
    alternateContacts: {},
    contactInformation: {},
    enabledRegions: ['us-east-1'],
    trails: [],
    detectors: {},
    iamUsers: [],
    events: {},
  });
  const aws = new SimulatedAws(
    {
      accounts: { [MGMT]: account(MGMT, 0), [MEMBER]: account(MEMBER, 2) },
      organization: {
        id: 'o-abcdefghij',
        managementAccountId: MGMT,
        features: ['RootCredentialsManagement', 'RootSessions'],
        delegatedAdmins: [],
      },
      responderAccountId: MGMT,
    },
    timer,
    LATENCY,
  );
  const clock = { now: () => new Date(timer.now()) };
  const openedAt = new Date(0).toISOString();
  const state: ExecutionInput = {
    incidentId: 'i',
    accountId: MEMBER,
    region: 'us-east-1',
    openedAt,
    source: 'cloudtrail',
    unparsed: false,
    trigger: {
      eventId: 'e',
      eventName: 'ConsoleLogin',
      eventSource: 'signin.amazonaws.com',
      accountId: MEMBER,
      sourceIPAddress: '198.51.100.7',
      isRoot: true,
      benign: false,
      startsIncident: true,
      severity: 'critical',
      categories: ['sign-in'],
      reasons: [],
      eventTime: openedAt,
      parsed: true,
    },
    settings: { approvalWaitSeconds: 1, maxReminders: 0 },
  };
  const responder = aws.targetClients({ accountId: MGMT });
  const snapshot = await snapshotRootCredentials(state, {
    clients: aws.targetClients({ accountId: MEMBER }),
    responder,
    useAssumeRoot: true,
    region: 'us-east-1',
    clock,
  });
  const afterSnapshot = timer.now();
  const contained = await containRootCredentials(
    { ...state, snapshot: { Payload: snapshot } },
    { responder, member: true, region: 'us-east-1', clock, timer },
  );
  const lastDelete = Math.max(...aws.changes.map((c) => c.at));
  row(
    `containment, member account, ${LATENCY} ms per AWS call`,
    `${lastDelete} ms`,
    `execution start to the last of ${aws.changes.length} root credentials deleted (${contained.status})`,
  );
  row(
    '  sequential AWS round trips on that path',
    `${lastDelete / LATENCY}`,
    `${afterSnapshot / LATENCY} in the snapshot, ${(lastDelete - afterSnapshot) / LATENCY} after it (goal: at most 3 after)`,
  );
}

/** Six processes that spin for `seconds` (three per core on these 2-core machines), then end by themselves. */
function busyLoops(seconds: number): { stop(): void } {
  const children = Array.from({ length: 6 }, () =>
    spawn(process.execPath, ['-e', `const end = Date.now() + ${seconds * 1000}; while (Date.now() < end) {}`], { stdio: 'ignore' }),
  );
  return { stop: () => children.forEach((c) => c.kill('SIGKILL')) };
}

async function drills(): Promise<void> {
  const now = new Date('2026-11-30T12:00:00Z');
  const idle = new Map<string, number>();
  for (const { name } of listScenarios()) {
    const result = await runDrill({ scenario: name, approve: 'all', now, out: mkdtempSync(join(tmpdir(), 'bench-drill-')) });
    idle.set(name, result.wallMs);
    const transitions = result.executions.reduce((n, e) => n + e.events.filter((x) => x.type === 'StateEntered').length, 0);
    const largest = result.executions.reduce((m, e) => (e.largestState.bytes > m.bytes ? e.largestState : m), { bytes: 0, where: '-' });
    row(
      `drill ${name} --approve all`,
      `${result.wallMs} ms`,
      `${result.executions.length} execution(s), ${transitions} state transitions (the Step Functions cost driver), ${Math.round(result.simulated.ms / 60_000)} min simulated`,
    );
    row('  largest state', `${(largest.bytes / 1024).toFixed(1)} KiB`, `${largest.where} (Step Functions' limit: 256 KiB)`);
  }
  // The same drills while six busy loops compete for both cores: simulated time keeps the outcome; the wall time grows.
  const busy = busyLoops(300);
  try {
    for (const { name } of listScenarios()) {
      const result = await runDrill({ scenario: name, approve: 'all', now, out: mkdtempSync(join(tmpdir(), 'bench-drill-')) });
      row(
        `drill ${name}, 6 busy loops on the CPU`,
        `${result.wallMs} ms`,
        `idle ${idle.get(name)} ms; ${result.executions.every((e) => e.status === 'SUCCEEDED') ? 'every execution SUCCEEDED' : 'an execution FAILED'}`,
      );
    }
  } finally {
    busy.stop();
  }
}

async function main(): Promise<void> {
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
  // `npm run bench -- bundles` (or any of these names) runs only those parts.
  const parts: Record<string, () => void | Promise<void>> = {
    triage: triageThroughput,
    review: cloudTrailReview,
    containment: containmentPath,
    bundles: bundleSizes,
    drills,
  };
  const chosen = process.argv.slice(2);
  const unknown = chosen.filter((name) => !(name in parts));
  if (unknown.length > 0) throw new Error(`bench: unknown part(s) ${unknown.join(', ')}; the parts: ${Object.keys(parts).join(', ')}`);
  for (const [name, run] of Object.entries(parts)) if (chosen.length === 0 || chosen.includes(name)) await run();
  const width = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  console.log(`${'measure'.padEnd(width[0]!)}  ${'value'.padEnd(width[1]!)}  note`);
  console.log(`${'-'.repeat(width[0]!)}  ${'-'.repeat(width[1]!)}  ----`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(width[0]!)}  ${b.padEnd(width[1]!)}  ${c}`);
}

void main();
