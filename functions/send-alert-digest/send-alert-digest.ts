import type { SNSClient } from '@aws-sdk/client-sns';
import { type AlertDigestStore, alertDigestStorePermissions, type DigestItem } from '#shared/alert-digest-store';
import type { Clock } from '#shared/clock';
import { describeError } from '#shared/errors';
import type { Log } from '#shared/logger';
import { notifyPermissions, publish } from '#shared/notify';

/**
 * The alert digest (scheduled, every `alertDigestMinutes`): intake emails the first root use of an
 * incident at once and only counts what follows; this sends, per incident (and per kind of refused
 * event), one email with what was counted since the last digest, by event name, read-only calls
 * apart. A subject with nothing new is dropped (a later event starts it again from zero). So a burst
 * of root calls costs one alert, then at most one digest per interval while it lasts. The digest goes
 * to the alert topic; approval links go to the responders' task topic and never wait behind it.
 */
export const requiredPermissions = [...new Set([...alertDigestStorePermissions.digest, ...notifyPermissions])];

export interface AlertDigestDeps {
  digests: Pick<AlertDigestStore, 'all' | 'markSent' | 'forget'>;
  sns: Pick<SNSClient, 'send'>;
  alertTopicArn: string;
  intervalMinutes: number;
  clock: Clock;
  log: Log;
}

export interface AlertDigestRun {
  sentAt: string;
  /** One per digest emailed: its subject and how many events it reported. */
  sent: { subject: string; events: number }[];
  /** Subjects with nothing new, dropped. */
  dropped: number;
  /** Subjects whose digest could not be sent this run (the next run reports their counts). */
  failed: { subject: string; error: string }[];
}

/** At most this many event names are listed one by one; the rest are summed on one line. */
const LISTED_NAMES = 40;

function digestText(item: DigestItem, intervalMinutes: number): { subject: string; suffix: string; body: string } {
  const fresh = item.total - item.sentTotal;
  const freshReadOnly = item.readOnly - item.sentReadOnly;
  const byName = Object.entries(item.counts)
    .map(([name, count]) => [name, count - (item.sent[name] ?? 0)] as const)
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const listed = byName.slice(0, LISTED_NAMES);
  const rest = byName.slice(LISTED_NAMES).reduce((sum, [, count]) => sum + count, 0);
  const width = Math.max(...listed.map(([name]) => name.length), 10);
  const refused = item.subject.startsWith('REFUSED#');
  const what = refused ? 'refused events' : 'root events';
  const body = [
    `Digest of ${item.title}: ${fresh} more ${what} since the last email${freshReadOnly > 0 ? `, ${freshReadOnly} of them read-only` : ''}.`,
    ...(item.lastAt ? [`Last one counted at ${item.lastAt}.`] : []),
    '',
    'By event name:',
    ...listed.map(([name, count]) => `  ${name.padEnd(width)}  ${count}`),
    ...(rest > 0 ? [`  (${byName.length - LISTED_NAMES} other event names)  ${rest}`] : []),
    '',
    `In all so far: ${item.total} (${item.readOnly} read-only).`,
    refused
      ? 'Refused events start nothing and change nothing; the first of them was emailed on its own.'
      : 'The response workflow reviews every root call of the incident window; its report lists them all.',
    `One digest per ${intervalMinutes} minutes at most, while events keep coming. Approval links come on their own, never behind this digest.`,
  ].join('\n');
  return {
    subject: `[root-responder] ${fresh} more ${what} in ${item.accountId}`,
    suffix: item.incidentId ? ` (${item.incidentId})` : '',
    body,
  };
}

export async function sendAlertDigests(deps: AlertDigestDeps): Promise<AlertDigestRun> {
  const now = deps.clock.now();
  const run: AlertDigestRun = { sentAt: now.toISOString(), sent: [], dropped: 0, failed: [] };
  for (const item of await deps.digests.all()) {
    const fresh = item.total - item.sentTotal;
    try {
      if (fresh <= 0) {
        if (await deps.digests.forget(item)) run.dropped++;
        continue;
      }
      const { subject, suffix, body } = digestText(item, deps.intervalMinutes);
      // Publish, then record what was reported: a crash between the two repeats a digest, never loses one.
      await publish(deps.sns, deps.alertTopicArn, { subject, subjectSuffix: suffix, body, attributes: { severity: 'info' } });
      await deps.digests.markSent(item, now);
      run.sent.push({ subject: item.subject, events: fresh });
    } catch (error) {
      // One subject's failure does not hold back the others; its counts stay for the next run.
      deps.log.error('Alert digest not sent', { subject: item.subject, error: error as Error });
      run.failed.push({ subject: item.subject, error: describeError(error).name });
    }
  }
  deps.log.info('Alert digests', { sent: run.sent.length, dropped: run.dropped, failed: run.failed.length });
  return run;
}
