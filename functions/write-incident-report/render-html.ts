import { escapeHtml as e } from '#shared/html';
import type { IncidentReport } from './write-incident-report';

/**
 * report.html: the same report as report.md for a browser. No script, no external resource (it
 * opens from the evidence bucket or a folder); every value from events is escaped. The first screen
 * answers what happened, what was done automatically and what the reader must do now.
 */
export const TOP_LEVEL_STATES = [
  'Snapshot Root Credentials',
  'Contain And Collect Evidence',
  'Assess Incident',
  'Notify Responders',
  'Confirmation Needed?',
  'Ask Whether The Sign-In Was Expected',
  'Was It You?',
  'Run Human Tasks',
  'Verify Incident',
  'Write Incident Report',
] as const;

const COLORS: Record<string, string> = { critical: '#b91c1c', high: '#c2410c', medium: '#a16207', low: '#1d4ed8', info: '#374151' };

export function renderHtml(r: IncidentReport): string {
  const color = COLORS[r.severity] ?? '#374151';
  const done = r.actions.filter((a) => a.status === 'done');
  const notDone = r.actions.filter((a) => a.status !== 'done' && a.status !== 'skipped');
  const rows = <T>(items: T[], cells: (item: T) => string[]) =>
    items
      .map(
        (i) =>
          `<tr>${cells(i)
            .map((c) => `<td>${c}</td>`)
            .join('')}</tr>`,
      )
      .join('');
  const flow = TOP_LEVEL_STATES.map((s) => `<li class="${r.statesVisited.includes(s) ? 'visited' : 'skipped'}">${e(s)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${e(r.severity.toUpperCase())} incident ${e(r.incidentId)}: ${e(r.status)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#111;line-height:1.45}
main{max-width:64rem;margin:0 auto;padding:1rem 1.5rem 3rem}
.banner{background:${color};color:#fff;padding:1rem 1.5rem}
.banner h1{margin:.2rem 0;font-size:1.6rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:1rem}
.card{border:1px solid #ddd;border-radius:.5rem;padding:.5rem 1rem;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:.92rem}
td,th{border-bottom:1px solid #eee;padding:.3rem .4rem;text-align:left;vertical-align:top}
code{font-size:.85em;background:#f3f4f6;padding:0 .2rem;border-radius:.2rem;word-break:break-all}
.sev-critical{color:#b91c1c;font-weight:700}.sev-high{color:#c2410c;font-weight:700}.sev-medium{color:#a16207}
ol.flow{display:flex;flex-wrap:wrap;gap:.4rem;list-style:none;padding:0}
ol.flow li{padding:.2rem .5rem;border-radius:.3rem;border:1px solid #ccc}
ol.flow li.visited{background:#fde68a;border-color:#b45309}
ol.flow li.skipped{color:#888}
</style></head>
<body>
<header class="banner"><div>Root-account incident · account <strong>${e(r.accountId)}</strong> · ${e(r.region)}</div>
<h1 id="severity">${e(r.severity.toUpperCase())}: incident ${e(r.status)}</h1>
<div><code style="background:transparent;color:#fff">${e(r.incidentId)}</code></div>${r.previousIncidentId ? `<div id="previous-incident">Follows incident <code style="background:transparent;color:#fff">${e(r.previousIncidentId)}</code> in the same account</div>` : ''}</header>
<main>
<div class="grid">
<section class="card" id="what-happened"><h2>What happened</h2><ul>${r.trigger.reasons.map((x) => `<li>${e(x)}</li>`).join('')}${r.findings
    .filter((f) => !f.resolution)
    .slice(0, 6)
    .map((f) => `<li><span class="sev-${e(f.severity)}">${e(f.severity)}</span>: ${e(f.title)}</li>`)
    .join(
      '',
    )}${r.findings.some((f) => f.resolution) ? `<li>${r.findings.filter((f) => f.resolution).length} fixed during the incident (marked in the findings below).</li>` : ''}</ul></section>
<section class="card" id="done-automatically"><h2>What was done automatically</h2><ul>${done.length ? done.map((a) => `<li>${e(a.action)} <code>${e(a.target)}</code>: ${e(a.detail)}</li>`).join('') : '<li>Nothing was changed automatically.</li>'}${notDone.map((a) => `<li><strong>Not done</strong>: ${e(a.action)} (${e(a.status)}): ${e(a.detail)}</li>`).join('')}</ul></section>
<section class="card" id="do-now"><h2>What you must do now</h2><ul>${r.openItems.length ? r.openItems.map((o) => `<li>${e(o)}</li>`).join('') : '<li>Nothing is open.</li>'}</ul>${r.limits.length ? `<p><strong>Limits:</strong></p><ul>${r.limits.map((l) => `<li>${e(l)}</li>`).join('')}</ul>` : ''}</section>
</div>
<h2>The response</h2><ol class="flow" id="flow">${flow}</ol>
<h2 id="findings">Findings (<span id="findings-count">${r.findings.length}</span>)</h2>
<table><thead><tr><th>severity</th><th>finding</th><th>evidence</th></tr></thead><tbody>${rows(
    [...r.findings.filter((f) => !f.resolution), ...r.findings.filter((f) => f.resolution)],
    (f) => [
      `<span class="sev-${e(f.severity)}">${e(f.severity)}</span>`,
      `${e(f.title)}<br><small>${e(f.detail)}</small>${f.resolution ? `<br><strong>Fixed:</strong> ${e(f.resolution.text)}` : ''}`,
      f.evidence
        .slice(0, 6)
        .map((id) => `<code>${e(id)}</code>`)
        .join(' ') + (f.evidence.length > 6 ? ` +${f.evidence.length - 6}` : ''),
    ],
  )}</tbody></table>
${r.remediations.length ? `<h2>Proposed remediations</h2><ul>${r.remediations.map((m) => `<li>${e(m.action)} <code>${e(m.target)}</code> (${e(m.region)}): ${e(m.undo)}</li>`).join('')}</ul>` : ''}
<h2>Actions</h2>
<table><thead><tr><th>action</th><th>target</th><th>status</th><th>at</th><th>detail</th></tr></thead><tbody>${rows(r.actions, (a) => [e(a.action), `<code>${e(a.target)}</code>`, e(a.status), e(a.at), e(a.detail)])}</tbody></table>
<h2>Human tasks</h2>
<table id="human-tasks"><thead><tr><th>task</th><th>status</th><th>decided by</th><th>when</th><th>verified</th></tr></thead><tbody>${rows(r.humanTasks, (t) => [e(t.title), e(t.status), e(t.decidedBy ?? ''), e(t.decidedAt ?? ''), t.verified === null ? 'not checked by API' : t.verified ? 'yes' : '<strong>no</strong>'])}</tbody></table>
<h2>Timeline</h2>
<table><thead><tr><th>at</th><th>where</th><th>what</th></tr></thead><tbody>${rows(r.timeline, (t) => [e(t.at), e(t.state), e(t.event)])}</tbody></table>
<h2>Evidence</h2>
<p>Location: <code>${e(r.evidence.location ?? 'none')}</code><br>Manifest SHA-256: <code id="manifest-sha256">${e(r.evidence.manifestSha256 ?? 'none')}</code> (${r.evidence.files} files; ${e(r.evidence.status)})<br>Manifest version id: <code id="manifest-version-id">${e(r.evidence.manifestVersionId ?? 'none')}</code>${r.lateEvents !== null ? `<br>Events that arrived after the first collection: ${r.lateEvents}` : ''}</p>
<p><small>Generated ${e(r.generatedAt)} by root-responder.</small></p>
</main></body></html>
`;
}
