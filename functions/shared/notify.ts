import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { NotificationError, storeCall } from './errors';
import { emailBody, emailText } from './text';

/**
 * Publish one email-style message. SNS refuses (InvalidParameter) a subject that is not printable
 * ASCII starting with a letter, number or punctuation, or is longer than 100 characters, and a
 * message over 262,144 UTF-8 bytes (SNS API reference, Publish). Subjects here carry task titles,
 * incident ids and values from events, so `publish` makes every subject valid (`snsSubject`) and
 * cuts an oversized body (`snsBody`): a notification is never lost to its own formatting.
 * A transient failure is retried by the state machine, anything else is a NotificationError.
 */
export interface Message {
  subject: string;
  /**
   * Kept whole at the end of the subject (e.g. " (<incident id>)"): when the subject is too long,
   * `subject` is shortened instead, so what tells incidents apart survives in the mailbox.
   */
  subjectSuffix?: string;
  body: string;
  attributes?: Record<string, string>;
}

export const SNS_SUBJECT_MAX_CHARS = 100;
export const SNS_MESSAGE_MAX_BYTES = 262_144;
const ELLIPSIS = '...';
const FALLBACK_SUBJECT = '[root-responder] notification';
const BODY_CUT_NOTE = '\n\n[... cut here: the message passed the 256 KB that SNS allows]';

/** Printable ASCII only: accents dropped (é -> e), line breaks and whitespace runs to one space, anything else to "?". */
function asciiPrintable(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFKD')) {
    if (/\p{M}/u.test(ch)) continue; // combining marks left by NFKD (the accent of é)
    if (/\s/u.test(ch)) out += ' ';
    else if (ch >= '!' && ch <= '~') out += ch;
    else out += '?'; // a control character, an emoji (one code point, one "?"), any other script
  }
  return out.replace(/ {2,}/g, ' ');
}

/** A subject SNS accepts, always: printable ASCII, starting with a non-space, at most 100 characters. */
export function snsSubject(subject: string, suffix = ''): string {
  const tail = asciiPrintable(suffix)
    .trimEnd()
    .slice(-(SNS_SUBJECT_MAX_CHARS - 1 - ELLIPSIS.length));
  const head = asciiPrintable(subject).trim();
  const room = SNS_SUBJECT_MAX_CHARS - tail.length;
  const whole = head.length <= room ? head : `${head.slice(0, room - ELLIPSIS.length).trimEnd()}${ELLIPSIS}`;
  const result = `${whole}${tail}`.trim();
  return result.length > 0 ? result : FALLBACK_SUBJECT;
}

/** The body, cut on a character boundary to fit SNS's 262,144 UTF-8 bytes, with a note when cut. */
export function snsBody(body: string): string {
  if (Buffer.byteLength(body, 'utf8') <= SNS_MESSAGE_MAX_BYTES) return body;
  const budget = SNS_MESSAGE_MAX_BYTES - Buffer.byteLength(BODY_CUT_NOTE, 'utf8');
  let bytes = 0;
  let end = 0;
  for (const ch of body) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > budget) break;
    bytes += size;
    end += ch.length;
  }
  return `${body.slice(0, end)}${BODY_CUT_NOTE}`;
}

export const notifyPermissions = ['sns:Publish'] as const;

export async function publish(sns: Pick<SNSClient, 'send'>, topicArn: string, message: Message): Promise<string | undefined> {
  // Subjects carry task titles, so values from events: one line, URLs defanged, as in bodies.
  const subject = snsSubject(emailText(message.subject), message.subjectSuffix);
  const out = await storeCall(
    'sns:Publish',
    () =>
      sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: subject,
          Message: snsBody(emailBody(message.body)),
          ...(message.attributes
            ? {
                MessageAttributes: Object.fromEntries(
                  Object.entries(message.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
                ),
              }
            : {}),
        }),
      ),
    NotificationError,
    `Publishing "${subject.slice(0, 60)}" failed`,
  );
  return out.MessageId;
}
