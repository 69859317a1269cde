import fc from 'fast-check';
import { publish, snsBody, snsSubject, SNS_MESSAGE_MAX_BYTES, SNS_SUBJECT_MAX_CHARS } from '#shared/notify';
import { NotificationError } from '#shared/errors';
import { publishRefusal, SimulatedSns } from '#drill/simulated-sns';

/**
 * Subjects carry task titles, incident ids and values from events: whatever they hold, SNS must
 * accept what `publish` sends (the simulated SNS refuses as AWS does).
 */
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:responders';
const ID = '123456789012-20260101T000000Z-0123456789';
const accepted = (subject: string) => publishRefusal({ TopicArn: TOPIC, Message: 'body', Subject: subject }) === undefined;

describe('snsSubject', () => {
  it('leaves a valid subject as it is', () => {
    expect(snsSubject('[root-responder] CRITICAL incident 1')).toBe('[root-responder] CRITICAL incident 1');
    const hundred = `[root-responder] ${'a'.repeat(83)}`;
    expect(snsSubject(hundred)).toBe(hundred);
  });

  it('cuts 101 characters to 100, ending with an ASCII ellipsis', () => {
    const out = snsSubject(`[root-responder] ${'a'.repeat(84)}`);
    expect(out).toHaveLength(SNS_SUBJECT_MAX_CHARS);
    expect(out.endsWith('a...')).toBe(true);
  });

  it('cuts a 300-character title and keeps the suffix (the incident id) whole', () => {
    const title = 'Quarantine IAM user '.repeat(15);
    expect(title).toHaveLength(300);
    const out = snsSubject(`[root-responder] Reminder: ${title}`, ` (${ID})`);
    expect(out).toHaveLength(SNS_SUBJECT_MAX_CHARS);
    expect(out).toMatch(new RegExp(`^\\[root-responder\\] Reminder: Quarantine IAM user.*[^ ]\\.\\.\\. \\(${ID}\\)$`));
    expect(accepted(out)).toBe(true);
  });

  it('keeps a short subject and its suffix unchanged', () => {
    expect(snsSubject('[root-responder] Change the root password', ` (${ID})`)).toBe(`[root-responder] Change the root password (${ID})`);
  });

  it.each([
    ['line breaks', 'Delete\r\nthe root\nkeys', 'Delete the root keys'],
    ['a tab and runs of spaces', 'a\t\t b   c', 'a b c'],
    ['control characters', 'a\u0000b\u0007c\u001bd\u007fe', 'a?b?c?d?e'],
    ['an emoji, one "?" per code point', 'alert 🔥 now', 'alert ? now'],
    ['accents, dropped', 'Müller in São Paulo', 'Muller in Sao Paulo'],
    ['other scripts', 'ключ 鍵', '???? ?'],
    ['a lone surrogate', 'a\ud800b', 'a?b'],
    ['leading and trailing blanks', '  \n title \t', 'title'],
    ['a non-breaking space and a line separator', 'a\u00a0b\u2028c', 'a b c'],
  ])('replaces %s', (_, input, expected) => {
    expect(snsSubject(input)).toBe(expected);
    expect(accepted(snsSubject(input))).toBe(true);
  });

  it('never sends an empty subject', () => {
    expect(snsSubject('')).toBe('[root-responder] notification');
    expect(snsSubject(' \r\n\t ')).toBe('[root-responder] notification');
    expect(snsSubject('', ` (${ID})`)).toBe(`(${ID})`);
  });

  it('makes any string, and any suffix, a subject SNS accepts', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 150 }), (subject, suffix) => {
        expect(accepted(snsSubject(subject, suffix))).toBe(true);
      }),
    );
  });
});

describe('snsBody', () => {
  it('leaves a body within 262,144 bytes as it is', () => {
    const body = 'x'.repeat(SNS_MESSAGE_MAX_BYTES);
    expect(snsBody(body)).toBe(body);
  });

  it('cuts a longer body on a character boundary to fit, and says so', () => {
    const body = '€'.repeat(SNS_MESSAGE_MAX_BYTES / 3 + 10); // 3 bytes each
    const out = snsBody(body);
    expect(Buffer.byteLength(out, 'utf8')).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
    expect(out).toMatch(/^€+\n\n\[\.\.\. cut here: the message passed the 256 KB that SNS allows\]$/);
    expect(publishRefusal({ TopicArn: TOPIC, Message: out })).toBeUndefined();
  });
});

describe('publish', () => {
  it('sends hostile subjects and oversized bodies in a form SNS accepts', async () => {
    const sns = new SimulatedSns();
    await publish(sns, TOPIC, {
      subject: `[root-responder] Reminder: ${'Löschen 🔥\n'.repeat(40)}`,
      subjectSuffix: ` (${ID})`,
      body: 'x'.repeat(SNS_MESSAGE_MAX_BYTES + 1),
    });
    expect(sns.outbox).toHaveLength(1);
    const [message] = sns.outbox;
    expect(message!.subject).toMatch(
      /^\[root-responder\] Reminder: Loschen \? Loschen .*\.\.\. \(123456789012-20260101T000000Z-0123456789\)$/,
    );
    expect(message!.subject).toHaveLength(SNS_SUBJECT_MAX_CHARS);
    expect(Buffer.byteLength(message!.body, 'utf8')).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
  });

  it('reports a refusal as a NotificationError that keeps the SNS error', async () => {
    const sns = new SimulatedSns();
    const error = await publish(sns, '', { subject: 'subject', body: 'body' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotificationError);
    expect((error as Error).message).toBe('Publishing "subject" failed: InvalidParameterException');
    expect(((error as Error).cause as Error).name).toBe('InvalidParameterException');
  });
});
