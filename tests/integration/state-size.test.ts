import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DrillOptions, runDrill, type DrillResult } from '#drill/drill';

/**
 * Step Functions allows 256 KiB per state input/output and per task result; beyond it the execution
 * fails with States.DataLimitExceeded, which no Catch on States.ALL sees, so Report Failure never
 * runs. The drill's Step Functions enforce that limit; this also measures, against a lower bar: every Task's
 * payload, every Task's result and the execution's output, for an incident with 150 root-created IAM
 * users and 300 root sign-ins. The state carries ids, counts and S3 keys; the bulk is in the bundle.
 */
const LIMIT = 200 * 1024;

interface Measure {
  fn: string;
  what: 'payload' | 'result' | 'execution output';
  bytes: number;
}

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? null));

interface Report {
  status: string;
  findings: { id: string; title: string }[];
  remediations: { action: string; target: string }[];
  humanTasks: { id: string; title: string; status: string }[];
  openItems: string[];
}

async function measured(
  options: Partial<DrillOptions> = {},
): Promise<{ result: DrillResult; measures: Measure[]; report: Report; markdown: string }> {
  const measures: Measure[] = [];
  const result = await runDrill({
    scenario: 'large-incident',
    approve: 'all',
    out: mkdtempSync(join(tmpdir(), 'state-size-')),
    handlerFor: (fn, deployed) => async (event) => {
      measures.push({ fn, what: 'payload', bytes: bytes(event) });
      const out = await deployed(event);
      measures.push({ fn, what: 'result', bytes: bytes(out) });
      return out;
    },
    ...options,
  });
  for (const e of result.executions) measures.push({ fn: 'execution', what: 'execution output', bytes: bytes(e.output) });
  const dir = result.reports[0]?.dir ?? result.outDir;
  return {
    result,
    measures,
    report: JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report,
    markdown: readFileSync(join(dir, 'report.md'), 'utf8'),
  };
}

function expectSucceededThroughTheReport(result: DrillResult): void {
  expect(result.executions).toHaveLength(1);
  const [execution] = result.executions;
  expect({ status: execution!.status, error: execution!.error, cause: execution!.cause?.slice(0, 300) }).toEqual({
    status: 'SUCCEEDED',
    error: undefined,
    cause: undefined,
  });
  expect(execution!.statesEntered).toContain('Write Incident Report');
  expect(execution!.statesEntered).not.toContain('Report Failure');
}

function expectEveryMeasureUnderTheLimit(measures: Measure[]): void {
  // Every step ran and was measured, the human tasks once per item.
  for (const fn of [
    'snapshotRootCredentials',
    'containRootCredentials',
    'collectEvidence',
    'assessIncident',
    'notifyResponders',
    'requestApproval',
    'runApprovedAction',
    'verifyHumanTask',
    'verifyIncident',
    'writeIncidentReport',
    'execution',
  ]) {
    expect({ fn, measured: measures.some((m) => m.fn === fn) }).toEqual({ fn, measured: true });
  }
  expect(measures.filter((m) => m.fn === 'requestApproval' && m.what === 'payload').length).toBeGreaterThanOrEqual(150);
  const largest = new Map<string, Measure>();
  for (const m of measures) {
    const key = `${m.fn} ${m.what}`;
    if ((largest.get(key)?.bytes ?? -1) < m.bytes) largest.set(key, m);
  }
  const over = [...largest.values()].filter((m) => m.bytes >= LIMIT).map((m) => `${m.fn} ${m.what}: ${m.bytes} bytes`);
  expect(over).toEqual([]);
}

function expectEveryFinding(report: Report, markdown: string): void {
  const users = report.findings.filter((f) => /^Root created IAM user `/.test(f.title));
  expect(users).toHaveLength(151);
  for (const name of ['tracy_stone', 'tracy_stone_01', 'tracy_stone_50', 'ci-deploy-001', 'ci-deploy-100']) {
    expect({ name, found: users.some((f) => f.title.startsWith(`Root created IAM user \`${name}\``)) }).toEqual({ name, found: true });
  }
  expect(users.find((f) => f.title.startsWith('Root created IAM user `tracy_stone_07`'))!.title).toBe(
    'Root created IAM user `tracy_stone_07`, an access key for it (AKIASWJJJ66ZZZII4I07), attached IAMFullAccess',
  );
  expect(report.findings.filter((f) => f.id.startsWith('sign-in-'))).toHaveLength(301);
  expect(report.remediations.filter((r) => r.action === 'quarantine-iam-user')).toHaveLength(151);
  // Every task is on the report with its title, though the workflow state carried only its id.
  expect(report.humanTasks).toHaveLength(159);
  expect(report.humanTasks.filter((t) => t.title === 'unknown task')).toEqual([]);
  expect(report.humanTasks.find((t) => t.id === 'quarantine-iam-user-ci-deploy-100')!.title).toMatch(
    /^Approve: Quarantine IAM user ci-deploy-100, which root created: attach a deny-all inline policy/,
  );
  expect(markdown).toContain(`## Findings (${report.findings.length})`);
  expect(markdown).toContain('Root created IAM user `ci-deploy-100`');
}

describe('state size: large-incident (150 root-created IAM users, 300 root sign-ins), every approval given', () => {
  let run: Awaited<ReturnType<typeof measured>>;

  beforeAll(async () => {
    // Production settings on the drill's clock: every one of the 159 tasks is answered (some after a
    // reminder: one responder's code works once per 30 s), so each task's outcome is in the state.
    run = await measured();
  }, 300_000);

  it('runs to the report: one execution, SUCCEEDED, through Write Incident Report', () => {
    expectSucceededThroughTheReport(run.result);
  });

  it('every task is done and verified, every attacker user quarantined, the instance root launched stopped: resolved', () => {
    expect(run.report.humanTasks.filter((t) => t.status !== 'done')).toEqual([]);
    expect(run.report.openItems).toEqual([]);
    expect(run.report.status).toBe('resolved');
    expect(run.result.aws.changes.filter((c) => c.change === 'ec2-stop-instance')).toHaveLength(1);
    expect(run.result.aws.changes.filter((c) => c.change === 'put-user-policy')).toHaveLength(151);
  });

  it('keeps every Task payload, every Task result and the execution output under 200 KB', () => {
    expectEveryMeasureUnderTheLimit(run.measures);
    // The local Step Functions measured every state input and output too (and would have failed the
    // execution past 256 KiB, as AWS does).
    expect(run.result.executions[0]!.largestState.bytes).toBeLessThan(LIMIT);
  });

  it('still reports every finding, naming the users root created', () => {
    expectEveryFinding(run.report, run.markdown);
  });
});
