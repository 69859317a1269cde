import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDrill } from '#drill/drill';
import { listScenarios } from '#drill/scenario';
import { commandsOf, expectHandled, expectNothingDoubledOrClaimed, expectRefusalReported } from '../helpers-faults';

/**
 * The soak (`npm run soak`, minutes, not part of `npm test`): every bundled scenario under 10%,
 * 30% and 50% transient faults over 20 seeds each, and AccessDenied on every operation each
 * scenario uses, one operation at a time. Counts are printed at the end.
 */
const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const RATES = [0.1, 0.3, 0.5];
const TRANSIENT = new Set(['ThrottlingException', 'InternalFailure', 'RequestTimeout', 'ServiceUnavailable']);
const out = () => mkdtempSync(join(tmpdir(), 'soak-'));
const totals = { transientRuns: 0, injectedErrors: 0, storeFaults: 0, lostResponses: 0, refusalRuns: 0, failedExecutions: 0 };

afterAll(() => {
  process.stdout.write(
    `soak: ${totals.transientRuns} transient-fault drills (${totals.injectedErrors} injected AWS API errors; ${totals.storeFaults} DynamoDB/SNS faults, ${totals.lostResponses} of them lost responses after the write), ${totals.refusalRuns} refusal drills, ${totals.failedExecutions} executions ended in Report Failure (handled)\n`,
  );
});

describe.each(listScenarios().map((s) => s.name))('%s', (scenario) => {
  it.each(RATES)(
    `transient faults at %p of every call, ${SEEDS.length} seeds: handled, nothing done twice, nothing claimed`,
    async (rate) => {
      for (const seed of SEEDS) {
        const result = await runDrill({ scenario, approve: 'all', out: out(), randomFaults: { rate, seed } });
        totals.transientRuns += 1;
        totals.injectedErrors += result.aws.calls.filter((c) => c.error !== undefined && TRANSIENT.has(c.error)).length;
        for (const f of Object.values(result.storeFaults ?? {})) {
          totals.storeFaults += f.rejected + f.lostResponses;
          totals.lostResponses += f.lostResponses;
        }
        totals.failedExecutions += result.executions.filter((e) => e.status === 'FAILED').length;
        expectHandled(result);
        expectNothingDoubledOrClaimed(result);
      }
    },
  );

  it('AccessDenied on each operation it uses: handled, reported with what to do instead, nothing claimed', async () => {
    const commands = commandsOf(await runDrill({ scenario, approve: 'all', out: out() }));
    // Every operation is tried, and every one that falls short is listed, not only the first.
    const problems: string[] = [];
    for (const command of commands) {
      const result = await runDrill({
        scenario,
        approve: 'all',
        out: out(),
        faults: [{ command, error: 'AccessDenied', times: Infinity }],
      });
      totals.refusalRuns += 1;
      totals.failedExecutions += result.executions.filter((e) => e.status === 'FAILED').length;
      try {
        expectHandled(result);
        expectNothingDoubledOrClaimed(result);
        if (result.executions.length > 0) expectRefusalReported(result, command);
      } catch (error) {
        problems.push(
          `${command}: ${(error as Error).message
            .split('\n')
            .filter((l) => /^\s*[-+] /.test(l))
            .join(' ')}`,
        );
      }
    }
    expect(problems).toEqual([]);
  });
});
