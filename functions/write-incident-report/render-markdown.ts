import type { IncidentReport } from './write-incident-report';
import { asText } from '#shared/text';

/**
 * report.md: the first screen answers what happened, what was done automatically, and what the
 * reader must do now; the detail follows. Text from events is quoted in code spans, with
 * backticks and pipes neutralised, so an event field cannot inject Markdown or HTML.
 */
function code(value: unknown): string {
  const text = asText(value ?? '').replace(/[`|\r\n<>]/g, (c) => ({ '`': "'", '|': '/', '\r': ' ', '\n': ' ', '<': '‹', '>': '›' })[c]!);
  return `\`${text}\``;
}

function text(value: unknown): string {
  return asText(value ?? '').replace(/[|\r\n<>]/g, (c) => ({ '|': '/', '\r': ' ', '\n': ' ', '<': '‹', '>': '›' })[c]!);
}

export function renderMarkdown(r: IncidentReport): string {
  const lines: string[] = [];
  const done = r.actions.filter((a) => a.status === 'done');
  const notDone = r.actions.filter((a) => a.status !== 'done' && a.status !== 'skipped');
  lines.push(`# ${r.severity.toUpperCase()}: root-account incident ${code(r.incidentId)} is ${r.status}`);
  lines.push('');
  lines.push(`Account ${code(r.accountId)} (${text(r.region)}). Report generated ${text(r.generatedAt)}.`);
  if (r.previousIncidentId)
    lines.push(`It follows incident ${code(r.previousIncidentId)} in the same account (its report is in that incident's folder).`);
  lines.push('');
  lines.push('## What happened');
  lines.push('');
  for (const reason of r.trigger.reasons) lines.push(`- ${text(reason)}`);
  for (const f of r.findings.slice(0, 8)) lines.push(`- **${f.severity}**: ${text(f.title)}`);
  if (r.findings.length > 8) lines.push(`- ... ${r.findings.length - 8} more findings below.`);
  lines.push('');
  lines.push('## What was done automatically');
  lines.push('');
  if (done.length === 0) lines.push('- Nothing was changed automatically.');
  for (const a of done) lines.push(`- ${text(a.action)} on ${code(a.target)} at ${text(a.at)}: ${text(a.detail)}`);
  for (const a of notDone) lines.push(`- NOT done: ${text(a.action)} (${a.status}): ${text(a.detail)}`);
  lines.push('');
  lines.push('## What you must do now');
  lines.push('');
  if (r.openItems.length === 0) lines.push('- Nothing is open.');
  for (const item of r.openItems) lines.push(`- [ ] ${text(item)}`);
  for (const note of r.limits) lines.push(`- Note: ${text(note)}`);
  lines.push('');
  lines.push(`## Findings (${r.findings.length})`);
  lines.push('');
  lines.push('| severity | finding | evidence |');
  lines.push('|---|---|---|');
  for (const f of r.findings)
    lines.push(
      `| ${f.severity} | ${text(f.title)} | ${f.evidence.slice(0, 5).map(code).join(' ')}${f.evidence.length > 5 ? ` +${f.evidence.length - 5}` : ''} |`,
    );
  if (r.remediations.length > 0) {
    lines.push('');
    lines.push('### Proposed remediations (run only after approval)');
    lines.push('');
    for (const m of r.remediations) lines.push(`- ${text(m.action)} ${code(m.target)} (${text(m.region)}): ${text(m.undo)}`);
  }
  lines.push('');
  lines.push('## Human tasks');
  lines.push('');
  lines.push('| task | status | decided by | when | verified |');
  lines.push('|---|---|---|---|---|');
  for (const t of r.humanTasks)
    lines.push(
      `| ${text(t.title)} | ${t.status} | ${text(t.decidedBy ?? '')} | ${text(t.decidedAt ?? '')} | ${t.verified === null ? 'not checked' : t.verified ? 'yes' : 'NO'} |`,
    );
  const undoable = r.humanTasks.filter((t) => t.undo?.length);
  if (undoable.length > 0) {
    lines.push('');
    lines.push('## How to undo what the responder changed');
    lines.push('');
    for (const t of undoable) {
      lines.push(`- ${text(t.title)}:`);
      for (const step of t.undo!) lines.push(`  - ${code(step)}`);
    }
  }
  lines.push('');
  lines.push('## Timeline');
  lines.push('');
  for (const e of r.timeline) lines.push(`- ${text(e.at)} · ${text(e.state)} · ${text(e.event)}`);
  lines.push('');
  lines.push('## Evidence');
  lines.push('');
  lines.push(`- Location: ${code(r.evidence.location ?? 'none')}`);
  lines.push(`- Manifest SHA-256: ${code(r.evidence.manifestSha256 ?? 'none')} (${r.evidence.files} files; status ${r.evidence.status})`);
  lines.push('');
  return `${lines.join('\n')}\n`;
}
