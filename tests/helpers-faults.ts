import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DrillResult } from '#drill/drill';
import { COMMAND_ACTIONS } from '#drill/simulated-aws';

/**
 * What must hold after any drill with faults injected, counted inside the simulated account and
 * never taken from the report alone (the fault tests and `npm run soak` share these).
 */
interface Report {
  actions: { action: string; target: string; status: string }[];
}

const reportTexts = (result: DrillResult) =>
  result.reports
    .map((r) => join(r.dir, 'report.json'))
    .filter(existsSync)
    .map((f) => readFileSync(f, 'utf8'));

/** No execution ends unhandled: it succeeds, or ends in Report Failure with the responders told. */
export function expectHandled(result: DrillResult): void {
  for (const execution of result.executions) {
    if (execution.status === 'FAILED') {
      expect({ execution: execution.name, error: execution.error }).toEqual({ execution: execution.name, error: 'ResponseFailed' });
      expect(result.outbox.some((m) => m.subject.startsWith('[root-responder] FAILED'))).toBe(true);
    }
  }
}

/** Each root credential is deleted at most once, and every deletion a report calls done happened (or the credential is gone). */
export function expectNothingDoubledOrClaimed(result: DrillResult): void {
  const byTarget = new Map<string, number>();
  for (const c of result.aws.changes.filter((c) => c.change.startsWith('delete-root-')))
    byTarget.set(`${c.change} ${c.target}`, (byTarget.get(`${c.change} ${c.target}`) ?? 0) + 1);
  for (const [target, n] of byTarget) expect({ target, n }).toEqual({ target, n: 1 });
  for (const { accountId, dir } of result.reports) {
    const file = join(dir, 'report.json');
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
    const account = result.aws.world.accounts[accountId];
    for (const a of report.actions.filter((a) => a.action.startsWith('delete-root-') && a.status === 'done')) {
      const claim = `${a.action} ${a.target}`;
      const happened = byTarget.has(claim);
      const goneAnyway = account
        ? !account.root.accessKeys.some((k) => k.AccessKeyId === a.target) &&
          !account.root.signingCertificates.some((c) => c.CertificateId === a.target)
        : true;
      expect({ claim, ok: happened || goneAnyway }).toEqual({ claim, ok: true });
    }
  }
}

/** A refused operation is named in a report (or in the failure email), with what to do instead. */
export function expectRefusalReported(result: DrillResult, command: string): void {
  const action = COMMAND_ACTIONS[command] ?? command;
  const bare = command.replace(/Command$/, '');
  const texts = [...reportTexts(result), ...result.outbox.filter((m) => m.subject.includes('FAILED')).map((m) => m.body)];
  const naming = texts.filter((t) => t.includes(action) || t.includes(bare));
  expect({ command, named: naming.length > 0 }).toEqual({ command, named: true });
  expect({ command, saysWhatToDo: naming.some((t) => /by hand|in the console|a person /i.test(t)) }).toEqual({
    command,
    saysWhatToDo: true,
  });
}

/** The commands the deployed handlers make in a clean run of the scenario (the pipeline check aside). */
export function commandsOf(result: DrillResult): string[] {
  return [...new Set(result.aws.calls.filter((c) => c.caller && c.caller !== 'checkPipeline' && !c.error).map((c) => c.command))].sort();
}
