import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DrillResult, runDrill } from '#drill/drill';
import { listScenarios, loadScenario } from '#drill/scenario';

/**
 * The drill on a machine whose cores are busy (`npm run soak -- busy-machine`): every bundled
 * scenario with `--approve all`, first alone, then while six busy-looping processes (three per core
 * on these 2-core machines) compete for the CPU. On simulated time the outcome must not change:
 * every task the scenario's responders answer is done, the same as on an idle machine; only the
 * wall time grows. Each busy loop ends by itself after BUSY_SECONDS.
 */
const BUSY_PROCESSES = 6;
const BUSY_SECONDS = 600;
const out = () => mkdtempSync(join(tmpdir(), 'busy-'));
const wall: Record<string, { idle?: number; busy?: number }> = {};

function taskStatuses(result: DrillResult): string[] {
  return result.reports.flatMap(({ dir }) => {
    const file = join(dir, 'report.json');
    if (!existsSync(file)) return [];
    return (JSON.parse(readFileSync(file, 'utf8')) as { humanTasks: { id: string; status: string }[] }).humanTasks.map(
      (t) => `${t.id}: ${t.status}`,
    );
  });
}

const scenarios = listScenarios().map((s) => s.name);
const idle = new Map<string, string[]>();

describe('idle machine', () => {
  it.each(scenarios)('%s', async (scenario) => {
    const result = await runDrill({ scenario, approve: 'all', out: out(), now: new Date('2026-11-30T12:00:00Z') });
    wall[scenario] = { idle: result.wallMs };
    idle.set(scenario, taskStatuses(result));
    expect(result.executions.every((e) => e.status === 'SUCCEEDED')).toBe(true);
  });
});

describe(`${BUSY_PROCESSES} busy-looping processes on the CPU`, () => {
  let busy: ChildProcess[] = [];
  beforeAll(() => {
    busy = Array.from({ length: BUSY_PROCESSES }, () =>
      spawn(process.execPath, ['-e', `const end = Date.now() + ${BUSY_SECONDS * 1000}; while (Date.now() < end) {}`], { stdio: 'ignore' }),
    );
  });
  afterAll(() => {
    for (const child of busy) child.kill('SIGKILL');
    const lines = Object.entries(wall).map(
      ([s, w]) => `  ${s.padEnd(28)} idle ${String(w.idle ?? '-').padStart(6)} ms   busy ${String(w.busy ?? '-').padStart(6)} ms`,
    );
    process.stdout.write(`drill wall time per scenario, --approve all, idle vs ${BUSY_PROCESSES} busy loops:\n${lines.join('\n')}\n`);
  });

  it.each(scenarios)(
    '%s: the same outcome as on an idle machine, every answered task done',
    async (scenario) => {
      const result = await runDrill({ scenario, approve: 'all', out: out(), now: new Date('2026-11-30T12:00:00Z') });
      wall[scenario] = { ...wall[scenario], busy: result.wallMs };
      expect(result.executions.every((e) => e.status === 'SUCCEEDED')).toBe(true);
      const statuses = taskStatuses(result);
      expect(statuses).toEqual(idle.get(scenario));
      // Only what the scenario's responders never answer may be overdue.
      const never = Object.entries(loadScenario(scenario).scenario.responders?.tasks ?? {})
        .filter(([, r]) => r.never)
        .map(([id]) => id);
      expect(statuses.filter((s) => s.endsWith(': overdue')).map((s) => s.split(':')[0])).toEqual(never);
    },
    300_000,
  );
});
