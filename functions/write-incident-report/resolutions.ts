import { reviewTaskId } from '#shared/review-tasks';
import type { Finding, ProposedRemediation } from '#shared/findings';
import type { ReportAction, ReportTask } from './write-incident-report';

/**
 * Findings end in the state the incident ended in: a finding that containment, a verified console
 * task or an approved remediation resolved says so, and when ("Root had an access key; deleted at T
 * by containment"). Everything else is still true. Pure.
 */
export interface Resolution {
  by: 'containment' | 'responders' | 'remediation';
  at: string;
  /** In a responder's words, the finding's past and what ended it. */
  text: string;
}

export type ResolvedFinding = Finding & { resolution?: Resolution };

const keyFinding = (id: string) => id === 'root-access-keys-present' || id.startsWith('root-access-key-');

/** Which console task, done and verified, resolves which findings, and how to say it. */
const BY_TASK: { task: string; resolves: (f: Finding) => boolean; says: (f: Finding) => string }[] = [
  { task: 'delete-root-access-keys', resolves: (f) => keyFinding(f.id), says: () => 'root access keys deleted by the responders' },
  {
    task: 'enable-root-mfa',
    resolves: (f) =>
      f.id === 'root-mfa-off' ||
      f.id.startsWith('mfa-removed-') ||
      f.id.startsWith('root-mfa-unexpected-') ||
      f.id.startsWith('mfa-added-'),
    says: (f) =>
      f.id.startsWith('mfa-added-') || f.id.startsWith('root-mfa-unexpected-') ? 'unknown root MFA devices removed' : 'root MFA re-enabled',
  },
  {
    task: 'change-root-password',
    resolves: (f) => f.category === 'sign-in' && f.id.startsWith('sign-in-'),
    says: () => 'root password changed',
  },
  {
    task: 'review-billing-and-organization',
    resolves: (f) => f.id.startsWith('alternate-contact-'),
    says: () => 'alternate contacts restored by the responders',
  },
];

/** The past tense of a finding's title, for "X; fixed at T" (the title itself when no short form fits). */
function past(f: Finding): string {
  if (f.id === 'root-access-keys-present') return 'Root had access keys';
  if (f.id === 'root-mfa-off') return 'Root MFA was off';
  return f.title;
}

export function resolveFindings(
  findings: Finding[],
  context: { actions: ReportAction[]; humanTasks: ReportTask[]; remediations: ProposedRemediation[] },
): ResolvedFinding[] {
  const deletions = context.actions.filter((a) => a.action === 'delete-root-access-key' && a.status === 'done');
  const keysLeft = context.actions.some((a) => a.action === 'delete-root-access-key' && a.status !== 'done');
  const verified = (id: string) => context.humanTasks.find((t) => t.id === id && t.status === 'done' && t.verified === true);
  return findings.map((f) => {
    // Containment: a key it deleted (by id), or every key when none is left.
    if (keyFinding(f.id) && deletions.length > 0) {
      const own = deletions.find((a) => f.id === `root-access-key-${a.target.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`);
      const all =
        f.id === 'root-access-keys-present' && !keysLeft
          ? deletions
              .map((a) => a.at)
              .sort()
              .pop()
          : undefined;
      const at = own?.at ?? all;
      if (at) {
        const ids = own ? own.target : deletions.map((a) => a.target).join(', ');
        return { ...f, resolution: { by: 'containment', at, text: `${past(f)}; deleted at ${at} by containment (${ids}).` } };
      }
    }
    for (const rule of BY_TASK) {
      const task = rule.resolves(f) ? verified(rule.task) : undefined;
      if (task?.decidedAt)
        return {
          ...f,
          resolution: {
            by: 'responders',
            at: task.decidedAt,
            text: `${past(f)}; ${rule.says(f)} at ${task.decidedAt} (task "${task.title}", ${task.decidedBy ?? 'a responder'}, verified by API).`,
          },
        };
    }
    // A review task (a function or a quota request root made): done, and not contradicted by its check.
    const review = f.exposure ? reviewTaskId(f.exposure) : undefined;
    const reviewed = review ? context.humanTasks.find((t) => t.id === review && t.status === 'done' && t.verified !== false) : undefined;
    if (reviewed?.decidedAt)
      return {
        ...f,
        resolution: {
          by: 'responders',
          at: reviewed.decidedAt,
          text: `${past(f)}; reviewed at ${reviewed.decidedAt} (task "${reviewed.title}", ${reviewed.decidedBy ?? 'a responder'}, ${reviewed.verified ? 'verified by API' : 'not verifiable by API: the responder confirmed'}).`,
        },
      };
    // An approved remediation that ran: the findings it was proposed for (same evidence, or its target named).
    for (const r of context.remediations) {
      const task = context.humanTasks.find((t) => t.id === r.id && t.status === 'done' && t.remediation === 'done');
      if (!task?.decidedAt) continue;
      const about =
        f.evidence.some((e) => r.evidence.includes(e)) ||
        (r.action === 'restart-trail' && f.id === `trail-not-logging-${r.target}`) ||
        (r.action === 'restore-alternate-contact' && f.id === `alternate-contact-${r.target.toLowerCase()}-differs`);
      if (about)
        return {
          ...f,
          resolution: {
            by: 'remediation',
            at: task.decidedAt,
            text: `${past(f)}; undone at ${task.decidedAt} by the approved remediation ${r.action} on ${r.target}${task.verified ? ', verified by API' : ''}.`,
          },
        };
    }
    return f;
  });
}
