import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDrill, DEFAULT_SCENARIO, DRILL_ENV, type DrillReadyInfo, type DrillResult } from '#drill/drill';
import { terminalText as t } from '#shared/text';
import type { CommandIO } from './triage-command';

/**
 * `root-responder drill [--scenario NAME|FILE] [--approve all] [--json]`: run a whole incident
 * locally and print it. Plain lines (one per state as it starts and ends); `--json` prints the
 * run as one JSON document at the end instead. Every value that can come from an event (event
 * names, errors, open items, subjects) is printed through `terminalText`: an escape sequence in a
 * CloudTrail field shows as `\x1b[...`, it never reaches the terminal; only our colours do.
 */
export async function drillCommand(args: string[], io: CommandIO): Promise<number> {
  // In a terminal the drill waits for you in the browser; piped (CI, scripts) nobody answers.
  let approve: 'all' | 'none' | 'reject-all' | 'interactive' = io.isTTY ? 'interactive' : 'none';
  let json = false;
  let scenario = DEFAULT_SCENARIO;
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--json') json = true;
    else if (arg === '--approve') {
      const value = args[++i];
      if (value !== 'all' && value !== 'none' && value !== 'reject-all' && value !== 'interactive') {
        io.stderr('drill: --approve takes "all", "reject-all", "interactive" or "none"');
        return 2;
      }
      approve = value;
    } else if (arg === '--out') {
      const value = args[++i];
      if (!value) {
        io.stderr('drill: --out takes a folder');
        return 2;
      }
      out = value;
    } else if (arg === '--scenario') {
      const value = args[++i];
      if (!value) {
        io.stderr('drill: --scenario takes a name or a file');
        return 2;
      }
      scenario = value;
    } else {
      io.stderr(`drill: unknown option ${arg} (see --help)`);
      return 2;
    }
  }

  const startedAt = new Map<string, number>();
  // Several accounts: several executions at once, so each state line names its account.
  let byAccount = false;
  let result: DrillResult;
  try {
    if (approve === 'interactive') {
      io.stdout('Interactive drill: open each approval link below in a browser on this machine and decide as one of');
      io.stdout('the demo responders, with the code their authenticator shows (add the secret below to any TOTP app).');
      io.stdout('Two-person tasks need both responders. Each wait lasts 10 minutes, then a reminder brings a fresh link.');
    }
    result = await runDrill({
      scenario,
      approve,
      onReady: (info: DrillReadyInfo) => {
        byAccount = info.accounts.length > 1;
        if (byAccount && !json)
          io.stdout(
            `Root events in ${info.accounts.length} accounts (${t(info.accounts.join(', '))}): one incident and one execution each.`,
          );
        if (approve === 'interactive') info.responders.forEach((r) => io.stdout(`responder ${r.email}  TOTP secret ${r.totpSecret}`));
      },
      ...(approve === 'interactive'
        ? {
            onLink: (link: string, subject: string) =>
              io.stdout(`approval  ${t(subject.replace(/^\[root-responder\]\s*/, ''))}\n          ${t(link)}`),
          }
        : {}),
      ...(out ? { out } : {}),
      ...(json
        ? {}
        : {
            onIntake: (line) =>
              io.stdout(
                `intake  ${t(line.eventName).padEnd(18)} ${t(line.eventTime ?? '')}  -> ${t(line.outcome)}${line.incidentId ? ` ${t(line.incidentId)}` : ''}${line.error ? ` (${t(line.error)})` : ''}`,
              ),
            onEvent: (execution, event) => {
              if (!event.state) return;
              const key = `${execution.name}/${event.index ?? ''}/${event.state}`;
              const where = `${event.index !== undefined ? `  [${t(event.item ?? `item ${event.index}`)}]` : ''}${byAccount ? `  [${t(execution.name.slice(0, 12))}]` : ''}`;
              const paint = (code: number, text: string) => (io.isTTY ? `\u001b[${code}m${text}\u001b[0m` : text);
              if (event.type === 'StateEntered') {
                startedAt.set(key, event.timestamp);
                io.stdout(
                  `  ${paint(36, '>')} ${t(event.state)}${where}${event.state === 'Request Approval' || event.state === 'Request Sign-In Confirmation' ? paint(33, '  waiting on people...') : ''}`,
                );
              } else if (event.type === 'StateExited' || event.type === 'StateFailed' || event.type === 'StateCaught') {
                const ms = event.timestamp - (startedAt.get(key) ?? event.timestamp);
                const mark =
                  event.type === 'StateExited'
                    ? paint(32, 'ok')
                    : event.type === 'StateCaught'
                      ? paint(33, `caught ${t(event.error ?? '')}`)
                      : paint(31, `FAILED ${t(event.error ?? '')}`);
                io.stdout(`  ${paint(36, '<')} ${t(event.state)}${where}  ${mark} (${formatDuration(ms)})`);
              }
            },
          }),
    });
  } catch (error) {
    io.stderr(`drill: ${t((error as Error).name)}: ${t((error as Error).message)}`);
    return 2;
  }

  if (json) {
    const { aws: _aws, ...printable } = result;
    io.stdout(JSON.stringify(printable, null, 2));
  } else {
    for (const execution of result.executions) {
      const transitions = execution.events.filter((e) => e.type === 'StateEntered').length;
      const invocations = execution.events.filter((e) => e.type === 'StateEntered' && e.stateType === 'Task').length;
      io.stdout('');
      io.stdout(
        `Execution ${t(execution.name)}: ${t(execution.status)}${execution.error ? ` (${t(execution.error)})` : ''} after ${formatDuration(execution.durationMs)}${approve === 'interactive' ? '' : ' of simulated time'}`,
      );
      io.stdout(
        `Largest state: ${execution.largestState.bytes.toLocaleString('en-US')} bytes at ${t(execution.largestState.where)} (Step Functions refuses more than 262,144); ${execution.historyEvents} history events (limit 25,000).`,
      );
      io.stdout(
        `Cost drivers: ${transitions} state transitions, ${invocations} Lambda invocations (plus one intake invocation per root event).`,
      );
    }
    for (const { accountId, dir } of result.reports) {
      const reportFile = join(dir, 'report.json');
      if (!existsSync(reportFile)) {
        io.stdout(`Account ${t(accountId)}: no report was written (see the execution above).`);
        continue;
      }
      const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
        status: string;
        severity: string;
        findings: unknown[];
        openItems: string[];
      };
      io.stdout('');
      io.stdout(
        `${result.reports.length > 1 ? `Account ${t(accountId)}: incident` : 'Incident'} status: ${t(report.status)}, severity ${t(report.severity)}, ${report.findings.length} findings.`,
      );
      if (report.openItems.length > 0) {
        io.stdout('Still open:');
        for (const item of report.openItems) io.stdout(`  - ${t(item)}`);
      } else io.stdout('Nothing is open.');
      io.stdout(
        `Report: ${t(join(dir, 'report.html'))} (open it in a browser), report.md, report.json; evidence: ${t(join(dir, 'evidence'))}/`,
      );
    }
    if (result.executions.length === 0) {
      io.stdout('No incident was opened (nothing in this scenario starts one).');
    }
    const p = result.pipeline;
    io.stdout('');
    if ('error' in p) io.stdout(`Pipeline check failed (in AWS the next scheduled run tries again): ${t(p.error)}`);
    else
      io.stdout(
        `Pipeline check (scheduled in AWS, once here after each account and region sent its canary): ${p.forwarders} forwarder(s) in ${p.accounts} account(s), ${p.silent.length} silent, ${p.uncovered.length} uncovered region(s), ${p.unreadable.length} unreadable account(s).`,
      );
    io.stdout('');
    io.stdout(
      `${result.outbox.length} messages sent (alerts, summary, approval requests, reminders, report), each in ${join(result.outDir, 'outbox')}/; ${result.approvals.length} approvals decided over HTTP at ${result.approvalsBaseUrl} (served only while the drill runs).`,
    );
    io.stdout(`Demo responders (drill only): ${result.responders.map((r) => `${r.email} TOTP secret ${r.totpSecret}`).join('; ')}.`);
    if (approve === 'none') io.stdout('Nobody approved anything (run with --approve all to simulate responders who do).');
    io.stdout(
      approve === 'interactive'
        ? `Drill finished in ${formatDuration(result.wallMs)}.`
        : `Drill finished in ${result.wallMs} ms of real time; ${formatDuration(result.simulated.ms)} passed on the drill's simulated clock (production settings: ${Number(DRILL_ENV.REMINDER_INTERVAL_SECONDS) / 60}-minute reminders, ${DRILL_ENV.MAX_REMINDERS} reminders, ${DRILL_ENV.APPROVAL_EXPIRY_HOURS}-hour links).`,
    );
  }
  return result.executions.every((e) => e.status === 'SUCCEEDED') ? 0 : 1;
}

/** 0.4 s, 45 s, 12 min 5 s, 4 h 2 min. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min${seconds % 60 ? ` ${seconds % 60} s` : ''}`;
  return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}
