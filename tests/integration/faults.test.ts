import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDrill, type DrillResult } from '#drill/drill';
import { commandsOf, expectHandled, expectNothingDoubledOrClaimed, expectRefusalReported } from '../helpers-faults';

/**
 * The simulated account fails a seeded random fraction of every call with throttling, 5xx and
 * timeouts. Whatever the seed: no execution ends without being handled (it succeeds, or ends in
 * Report Failure with the responders told); every root credential is deleted at most once, and
 * every deletion the report calls done happened (counted inside the simulated account, never read
 * from the report); a change the report does not claim did not happen.
 */
interface Report {
  actions: { action: string; target: string; status: string }[];
}

const SCENARIOS = ['unknown-ip-no-mfa', 'member-account', 'management-account'];
const RATES = [0.1, 0.3, 0.5];
// One drill per scenario and rate, each with a seed of its own (nine fault patterns in all); many
// seeds per scenario and rate are the soak's (`npm run soak`: every scenario, 20 seeds each).
const CASES = SCENARIOS.flatMap((scenario, i) => RATES.map((rate, j) => ({ scenario, rate, seed: i * RATES.length + j + 1 })));

function check(result: DrillResult): void {
  expectHandled(result);
  expectNothingDoubledOrClaimed(result);
}

describe('transient faults at 10%, 30% and 50% of every AWS call', () => {
  for (const { scenario, rate, seed } of CASES) {
    it(`${scenario} at ${rate * 100}%: handled, nothing done twice, nothing claimed that did not happen (seed ${seed})`, async () => {
      const result = await runDrill({
        scenario,
        approve: 'all',
        out: mkdtempSync(join(tmpdir(), 'faults-')),
        randomFaults: { rate, seed },
      });
      expect(result.executions).toHaveLength(1);
      check(result);
    }, 60_000);
  }

  it('at 10% the member-account drill still removes the root credentials (with retries)', async () => {
    const result = await runDrill({
      scenario: 'member-account',
      approve: 'all',
      out: mkdtempSync(join(tmpdir(), 'faults-')),
      randomFaults: { rate: 0.1, seed: 42 },
    });
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    expect(result.aws.world.accounts['444455556666']!.root.accessKeys).toEqual([]);
  });
});

describe('the state machine recovers from a crashed step', () => {
  it('containment crashes after deleting: the retry finishes the job without deleting twice', async () => {
    let calls = 0;
    const result = await runDrill({
      scenario: 'member-account',
      approve: 'all',
      out: mkdtempSync(join(tmpdir(), 'crash-')),
      handlerFor: (fn, deployed) =>
        fn === 'containRootCredentials'
          ? async (event) => {
              calls += 1;
              const out = await deployed(event);
              // The Lambda dies after the deletes, before it can answer (Step Functions sees a service error).
              if (calls === 1) throw Object.assign(new Error('Runtime exited'), { name: 'Lambda.ServiceException' });
              return out;
            }
          : deployed,
    });
    expect(calls).toBe(2);
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    const deletions = result.aws.changes
      .filter((c) => c.change === 'delete-root-access-key' || c.change === 'delete-root-signing-certificate')
      .map((c) => c.target)
      .sort();
    expect(deletions).toEqual(['AKIAMEMBERROOTKEY001', 'MEMBERCERT000000000000000001']);
    const report = JSON.parse(readFileSync(join(result.outDir, 'report.json'), 'utf8')) as Report;
    expect(report.actions.filter((a) => a.action.startsWith('delete-root-')).map((a) => a.status)).toEqual(['done', 'done']);
  });
});

describe('permanent refusals on chosen operations', () => {
  it('AccessDenied on the quarantine and on reading a contact: reported with the reason, nothing claimed, the run completes', async () => {
    const result = await runDrill({
      scenario: 'unknown-ip-no-mfa',
      approve: 'all',
      out: mkdtempSync(join(tmpdir(), 'denied-')),
      faults: [
        { command: 'PutUserPolicyCommand', error: 'AccessDenied', times: Infinity },
        { command: 'GetAlternateContactCommand', error: 'AccessDenied', times: 1 },
      ],
    });
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    expect(result.aws.changes.filter((c) => c.change === 'put-user-policy' || c.change === 'access-key-inactive')).toEqual([]);
    const report = JSON.parse(readFileSync(join(result.outDir, 'report.json'), 'utf8')) as {
      status: string;
      openItems: string[];
      humanTasks: { id: string; status: string }[];
    };
    expect(report.status).toBe('needs-attention');
    expect(report.humanTasks.find((t) => t.id === 'quarantine-iam-user-tracy-stone')!.status).toBe('open');
    expect(report.openItems.find((o) => o.startsWith('Approve: Quarantine IAM user tracy_stone'))).toMatch(
      /approved, but the remediation did not run \(failed\): AccessDeniedError: iam:PutUserPolicy was refused: .*Allow that action .*or do this step by hand/,
    );
    const unavailable = JSON.parse(readFileSync(join(result.outDir, 'evidence', 'review.json'), 'utf8')) as {
      unavailable: { what: string; error: string }[];
    };
    expect(unavailable.unavailable.map((u) => u.what)).toContain('BILLING alternate contact');
  });
});

describe('AccessDenied on every operation a scenario uses, one at a time (the full matrix over every scenario is `npm run soak`)', () => {
  // The richest standalone scenario, and the organization-only operations of a member account.
  const SAMPLE: [string, string[] | 'all'][] = [
    ['unknown-ip-no-mfa', 'all'],
    [
      'member-account',
      ['AssumeRoleCommand', 'AssumeRootCommand', 'ListOrganizationsFeaturesCommand', 'ListAccountsCommand', 'DeleteAccessKeyCommand'],
    ],
  ];
  for (const [scenario, chosen] of SAMPLE) {
    it(`${scenario}: each refusal is handled, named in the report with what to do instead, and nothing is claimed`, async () => {
      // 'all': every command a clean run of the scenario makes (a clean run only to list them).
      const commands =
        chosen === 'all' ? commandsOf(await runDrill({ scenario, approve: 'all', out: mkdtempSync(join(tmpdir(), 'denied-')) })) : chosen;
      expect(commands.length).toBeGreaterThan(4);
      for (const command of commands) {
        const result = await runDrill({
          scenario,
          approve: 'all',
          out: mkdtempSync(join(tmpdir(), 'denied-')),
          faults: [{ command, error: 'AccessDenied', times: Infinity }],
        });
        expect({ command, refused: result.aws.calls.some((c) => c.command === command && c.error === 'AccessDenied') }).toEqual({
          command,
          refused: true,
        });
        expectHandled(result);
        expectNothingDoubledOrClaimed(result);
        expectRefusalReported(result, command);
      }
    }, 120_000);
  }
});

describe('the state machine recovers from a hung step', () => {
  it('containment hangs after deleting until its Task times out: the retry finds the keys gone and deletes nothing twice', async () => {
    let calls = 0;
    const result = await runDrill({
      scenario: 'member-account',
      approve: 'all',
      out: mkdtempSync(join(tmpdir(), 'hang-')),
      // The first invocation does its deletes and then hangs for an hour of the drill's clock, as a
      // Lambda stuck on a slow call would; the Task's own timeout (130 s, as deployed) ends the wait.
      handlerFor: (fn, deployed, drill) =>
        fn === 'containRootCredentials'
          ? async (event) => {
              calls += 1;
              const out = await deployed(event);
              if (calls === 1) await drill.clock.sleep(3_600_000);
              return out;
            }
          : deployed,
    });
    expect(calls).toBe(2);
    const contain = result.executions[0]!.events.filter((e) => e.state === 'Contain Root Credentials').map(
      (e) => `${e.type}${e.error ? ` ${e.error}` : ''}`,
    );
    // Timed out, retried (the Retry on States.Timeout of this idempotent step), then finished.
    expect(contain).toEqual(['StateEntered', 'StateFailed States.Timeout', 'StateRetried', 'StateExited']);
    expect(result.executions[0]!.status).toBe('SUCCEEDED');
    const deletions = result.aws.changes
      .filter((c) => c.change === 'delete-root-access-key' || c.change === 'delete-root-signing-certificate')
      .map((c) => c.target)
      .sort();
    expect(deletions).toEqual(['AKIAMEMBERROOTKEY001', 'MEMBERCERT000000000000000001']);
    const report = JSON.parse(readFileSync(join(result.outDir, 'report.json'), 'utf8')) as Report;
    expect(report.actions.filter((a) => a.action.startsWith('delete-root-')).map((a) => a.status)).toEqual(['done', 'done']);
  }, 30_000);
});
