import { InvalidParameterException, PublishCommand } from '@aws-sdk/client-sns';
import { SimulatedSns, SNS_MAX_MESSAGE_BYTES, SNS_MAX_SUBJECT_CHARS } from '#local/simulated-sns';

/** The simulated services refuse what AWS refuses, with AWS's exception: at each limit, and one past it. */

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:alerts';

async function refusal(run: () => Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }; $fault?: string }> {
  try {
    await run();
  } catch (error) {
    return error as Error & { $metadata?: { httpStatusCode?: number }; $fault?: string };
  }
  throw new Error('expected the call to be refused');
}

describe('SNS Publish limits', () => {
  let sns: SimulatedSns;
  const publish = (input: { Message: string; Subject?: string }) => sns.send(new PublishCommand({ TopicArn: TOPIC, ...input }));
  beforeEach(() => {
    sns = new SimulatedSns();
  });

  it('accepts a message of exactly 262,144 bytes', async () => {
    await expect(publish({ Message: 'x'.repeat(SNS_MAX_MESSAGE_BYTES) })).resolves.toEqual({ MessageId: expect.any(String) });
    expect(SNS_MAX_MESSAGE_BYTES).toBe(262_144);
  });

  it('refuses one byte more with InvalidParameterException "Invalid parameter: Message too long", and sends nothing', async () => {
    const error = await refusal(() => publish({ Message: 'x'.repeat(SNS_MAX_MESSAGE_BYTES + 1) }));
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error).toMatchObject({ name: 'InvalidParameterException', message: 'Invalid parameter: Message too long', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    expect(sns.outbox).toEqual([]);
  });

  it('counts UTF-8 bytes, not characters', async () => {
    // "é" is 2 bytes: 131,072 of them are exactly the limit, one more is over with far fewer than 262,144 characters.
    await expect(publish({ Message: 'é'.repeat(SNS_MAX_MESSAGE_BYTES / 2) })).resolves.toBeDefined();
    const error = await refusal(() => publish({ Message: 'é'.repeat(SNS_MAX_MESSAGE_BYTES / 2 + 1) }));
    expect(error.message).toBe('Invalid parameter: Message too long');
  });

  it('accepts a subject of exactly 100 printable ASCII characters, starting with punctuation', async () => {
    const subject = `[root-responder] ${'a'.repeat(SNS_MAX_SUBJECT_CHARS - 17)}`;
    expect(subject).toHaveLength(100);
    await publish({ Message: 'body', Subject: subject });
    expect(sns.outbox.map((m) => m.subject)).toEqual([subject]);
  });

  it.each([
    ['101 characters', 'a'.repeat(SNS_MAX_SUBJECT_CHARS + 1)],
    ['empty', ''],
    ['a leading space', ' subject'],
    ['a line break', 'line one\nline two'],
    ['a carriage return', 'line one\r'],
    ['a tab', 'a\tb'],
    ['a NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
    ['an accented letter', 'Müller signed in'],
    ['an emoji', 'alert 🔥'],
    ['a non-breaking space', 'a\u00a0b'],
  ])('refuses a subject with %s: InvalidParameterException "Invalid parameter: Subject"', async (_, subject) => {
    const error = await refusal(() => publish({ Message: 'body', Subject: subject }));
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error).toMatchObject({ name: 'InvalidParameterException', message: 'Invalid parameter: Subject', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    expect(sns.outbox).toEqual([]);
  });

  it('accepts a Publish without a subject', async () => {
    await publish({ Message: 'body' });
    expect(sns.outbox).toHaveLength(1);
  });
});
