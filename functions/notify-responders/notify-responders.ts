import type { SnsSender } from '#shared/sns-types';
import { evidenceReadPermissions, type ObjectReader } from '#shared/evidence';
import { notifyPermissions, publish } from '#shared/notify';
import { readPlan } from '#shared/plan';
import type { StoredPlan } from '#shared/contracts/incident-files';
import type { Notification, NotifyInput } from '#shared/contracts/notification';
import { emailText as mail } from '#shared/text';

/**
 * Notify Responders: the summary email to the registered responders. Each task follows in its own
 * email. Its input is what the ASL picks from the state (ids, the trigger, severity, the automatic
 * steps' status, the number of tasks); the tasks' titles are read from the assessment's plan.json.
 */
export const requiredPermissions = [...notifyPermissions, ...evidenceReadPermissions] as const;

export interface NotifyDeps {
  sns: SnsSender;
  respondersTopicArn: string;
  /** The assessment folder (plan.json). */
  assessment: ObjectReader;
}

/**
 * The evidence as collected, checkable outside the bucket: keep this email. The manifest's SHA-256
 * names every file's size and digest; `root-responder verify-evidence DIR --digest HEX` checks a
 * downloaded bundle against it, and the version id names the manifest the digest is of.
 */
export function evidenceLines(evidence: NotifyInput['evidence']): string[] {
  if (!evidence) return ['Evidence: the collection did not finish; no manifest was written.'];
  return [
    `Evidence (keep this email: it lets anyone check the bundle outside the bucket): ${evidence.location}`,
    `  manifest.json SHA-256: ${evidence.manifestSha256}`,
    `  manifest.json version id: ${evidence.manifestVersionId ? mail(evidence.manifestVersionId) : 'none (this store keeps no versions)'}`,
    `  ${evidence.files} files. Check a downloaded copy: npx root-responder verify-evidence DIR --digest ${evidence.manifestSha256}`,
  ];
}

export function summary(input: NotifyInput, plan: StoredPlan): { subject: string; body: string } {
  const t = input.trigger;
  const steps = Object.entries(input.steps).map(([name, s]) => `- ${name}: ${s.status}${s.detail ? ` (${mail(s.detail)})` : ''}`);
  const tasks = plan.askWasItYou
    ? ['- First: "Was this root sign-in one of you?" (its own email, with a link). Confirming closes the incident.']
    : plan.tasks.map((task) => `- ${mail(task.title)}`);
  return {
    subject: `[root-responder] ${input.severity.toUpperCase()} incident ${input.incidentId}`,
    body: [
      `What happened: ${mail(t.reasons.join(' '))}`,
      `Account ${mail(input.accountId)}, ${mail(input.region)}; first event ${mail(t.eventName || 'unknown')} at ${mail(t.eventTime ?? 'an unrecorded time')}.`,
      '',
      'What was done automatically:',
      ...steps,
      '',
      'What you must do now (each arrives as its own email with an approval link; links expire and work once):',
      ...tasks,
      '',
      ...evidenceLines(input.evidence),
    ].join('\n'),
  };
}

export async function notifyResponders(input: NotifyInput, deps: NotifyDeps): Promise<Notification> {
  const plan = await readPlan(deps.assessment);
  const { subject, body } = summary(input, plan);
  const messageId = await publish(deps.sns, deps.respondersTopicArn, { subject, body, attributes: { severity: input.severity } });
  return { step: 'notify-responders', status: 'done', messageId: messageId ?? null, tasks: input.tasks };
}
