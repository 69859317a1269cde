import type { IncidentReport } from './write-incident-report';
import { markdownCode } from '#shared/text';

/**
 * report.md: the first screen answers what happened, what was done automatically, and what the
 * reader must do now; the detail follows. Every string that carries a value from an event (reasons,
 * titles, details, targets, open items, the timeline) is one code span (`markdownCode`): Markdown
 * viewers render it as text, never as a link, an image, HTML or an autolink. Our own words and the
 * enumerated values (severity, status, counts) stay outside.
 */
const code = (value: unknown): string => markdownCode(value);
const cell = (value: unknown): string => markdownCode(value, { cell: true });

export function renderMarkdown(r: IncidentReport): string {
  const lines: string[] = [];
  const done = r.actions.filter((a) => a.status === 'done');
  const notDone = r.actions.filter((a) => a.status !== 'done' && a.status !== 'skipped');
  lines.push(`# ${r.severity.toUpperCase()}: root-account incident ${code(r.incidentId)} is ${r.status}`);
  lines.push('');
  lines.push(`Account ${code(r.accountId)} (${code(r.region)}). Report generated ${code(r.generatedAt)}.`);
  if (r.previousIncidentId)
    lines.push(`It follows incident ${code(r.previousIncidentId)} in the same account (its report is in that incident's folder).`);
  lines.push('');
  lines.push('## What happened');
  lines.push('');
  for (const reason of r.trigger.reasons) lines.push(`- ${code(reason)}`);
  // What is still true first; what the response fixed is counted here and listed below.
  const stillTrue = r.findings.filter((f) => !f.resolution);
  const fixed = r.findings.filter((f) => f.resolution);
  for (const f of stillTrue.slice(0, 8)) lines.push(`- **${f.severity}**: ${code(f.title)}`);
  if (stillTrue.length > 8) lines.push(`- ... ${stillTrue.length - 8} more findings below.`);
  if (fixed.length) lines.push(`- ${fixed.length} finding${fixed.length > 1 ? 's were' : ' was'} fixed during the incident (below).`);
  lines.push('');
  lines.push('## What was done automatically');
  lines.push('');
  if (done.length === 0) lines.push('- Nothing was changed automatically.');
  for (const a of done) lines.push(`- ${code(a.action)} on ${code(a.target)} at ${code(a.at)}: ${code(a.detail)}`);
  for (const a of notDone) lines.push(`- NOT done: ${code(a.action)} (${a.status}): ${code(a.detail)}`);
  lines.push('');
  lines.push('## What you must do now');
  lines.push('');
  if (r.openItems.length === 0) lines.push('- Nothing is open.');
  for (const item of r.openItems) lines.push(`- [ ] ${code(item)}`);
  for (const note of r.limits) lines.push(`- Note: ${code(note)}`);
  lines.push('');
  lines.push(`## Findings (${r.findings.length})`);
  lines.push('');
  lines.push(`### Still true (${stillTrue.length})`);
  lines.push('');
  lines.push('| severity | finding | evidence |');
  lines.push('|---|---|---|');
  for (const f of stillTrue)
    lines.push(
      `| ${f.severity} | ${cell(f.title)} | ${f.evidence
        .slice(0, 5)
        .map((id) => cell(id))
        .join(' ')}${f.evidence.length > 5 ? ` +${f.evidence.length - 5}` : ''} |`,
    );
  if (fixed.length > 0) {
    lines.push('');
    lines.push(`### Fixed during the incident (${fixed.length})`);
    lines.push('');
    for (const f of fixed)
      lines.push(`- ${code(f.resolution!.text)} (was ${f.severity}; evidence ${f.evidence.slice(0, 3).map(code).join(' ')})`);
  }
  const exposed = r.findings.filter((f) => f.exposure);
  if (exposed.length > 0) {
    lines.push('');
    lines.push('### What was exposed or launched, and its undo');
    lines.push('');
    for (const f of exposed)
      lines.push(
        `- ${code(f.exposure!.resource.type)} ${code(f.exposure!.resource.id)} (${code(f.exposure!.resource.region)}): ${code(f.title)}. Undo: ${code(f.exposure!.undo.kind)} (${f.exposure!.undo.reversible ? 'reversible' : 'not reversible'}; ${
          f.exposure!.undo.status === 'not-implemented'
            ? 'not built yet: do it by hand'
            : f.resolution
              ? `done: ${f.resolution.text}`
              : 'proposed for approval, not done'
        }). Event ${code(f.exposure!.event.id)}.`,
      );
  }
  const ours = r.responderActivity.filter((a) => a.status === 'confirmed');
  if (ours.length > 0) {
    lines.push('');
    lines.push(`### Responder activity (${ours.length} root events, not findings)`);
    lines.push('');
    for (const a of ours)
      lines.push(
        `- ${code(a.at)} · responder activity for task ${code(a.taskId)}: root ${code(a.eventName)} from ${code(a.sourceIPAddress ?? 'unrecorded')}`,
      );
  }
  if (r.remediations.length > 0) {
    lines.push('');
    lines.push('### Proposed remediations (run only after approval)');
    lines.push('');
    for (const m of r.remediations) lines.push(`- ${code(m.action)} ${code(m.target)} (${code(m.region)}): ${code(m.undo)}`);
  }
  lines.push('');
  lines.push('## Human tasks');
  lines.push('');
  lines.push('| task | status | decided by | when | verified |');
  lines.push('|---|---|---|---|---|');
  for (const t of r.humanTasks)
    lines.push(
      `| ${cell(t.title)} | ${t.status} | ${t.decidedBy ? cell(t.decidedBy) : ''} | ${t.decidedAt ? cell(t.decidedAt) : ''} | ${t.verified === null ? 'not checked' : t.verified ? 'yes' : 'NO'} |`,
    );
  const undoable = r.humanTasks.filter((t) => t.undo?.length);
  if (undoable.length > 0) {
    lines.push('');
    lines.push('## How to undo what the responder changed');
    lines.push('');
    for (const t of undoable) {
      lines.push(`- ${code(t.title)}:`);
      for (const step of t.undo!) lines.push(`  - ${code(step)}`);
    }
  }
  lines.push('');
  lines.push('## Timeline');
  lines.push('');
  for (const e of r.timeline) lines.push(`- ${code(e.at)} · ${code(e.state)} · ${code(e.event)}`);
  lines.push('');
  lines.push('## Evidence');
  lines.push('');
  lines.push(`- Location: ${code(r.evidence.location ?? 'none')}`);
  lines.push(`- Manifest SHA-256: ${code(r.evidence.manifestSha256 ?? 'none')} (${r.evidence.files} files; status ${r.evidence.status})`);
  lines.push(`- Manifest version id: ${code(r.evidence.manifestVersionId ?? 'none')}`);
  lines.push('');
  return `${lines.join('\n')}\n`;
}
