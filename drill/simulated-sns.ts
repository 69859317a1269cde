import { InvalidParameterException, type PublishCommand } from '@aws-sdk/client-sns';
import { isCommand } from './simulated-dynamodb';

/** One message the drill "sent": what a responder's mailbox would receive. */
export interface OutboxMessage {
  topicArn: string;
  subject: string;
  body: string;
  at: string;
}

/**
 * SNS Publish limits, enforced as AWS enforces them (sources looked up for this simulator):
 * - Message: "messages must be UTF-8 encoded strings and at most 256 KB in size (262,144 bytes,
 *   not 262,144 characters)" (SNS API reference, Publish, Message). Over it AWS answers
 *   InvalidParameter "Invalid parameter: Message too long" (reported verbatim in
 *   wellcomecollection/platform#1460 and #1776; moto's sns/models.py raises the same text).
 * - Subject: "must be ASCII text that begins with a letter, number, or punctuation mark; must not
 *   include line breaks or control characters; and must be less than 100 characters long"
 *   (Publish, Subject). Newer editions say "UTF-8 text with no line breaks or control characters";
 *   Amazon Managed Prometheus's SNS receiver still documents replacing a subject that "contains
 *   control or non-ASCII characters" before publishing, so the ASCII rule is the one held here.
 *   AWS accepts exactly 100 characters and refuses 101 (getmoto/moto#1503, measured against AWS);
 *   an empty subject is refused too (wellcomecollection/platform#1107). The answer is
 *   InvalidParameter "Invalid parameter: Subject" (getmoto/moto#1276, panther-labs/panther#1947).
 * The SDK v3 turns the wire code InvalidParameter into its InvalidParameterException class,
 * which is what this simulator throws.
 */
export const SNS_MAX_MESSAGE_BYTES = 262_144;
export const SNS_MAX_SUBJECT_CHARS = 100;
/** Printable ASCII (space to tilde), not starting with a space. */
const VALID_SUBJECT = /^[\x21-\x7e][\x20-\x7e]*$/;

function refuse(message: string): InvalidParameterException {
  return new InvalidParameterException({ message, $metadata: { httpStatusCode: 400 } });
}

/** Why AWS would refuse this Publish, as the exception it would throw; undefined when it would not. */
export function publishRefusal(input: {
  TopicArn?: string | undefined;
  Message?: string | undefined;
  Subject?: string | undefined;
}): InvalidParameterException | undefined {
  if (!input.TopicArn || input.Message === undefined || input.Message === '') return refuse('TopicArn and Message are required');
  if (Buffer.byteLength(input.Message, 'utf8') > SNS_MAX_MESSAGE_BYTES) return refuse('Invalid parameter: Message too long');
  if (input.Subject !== undefined && (input.Subject.length > SNS_MAX_SUBJECT_CHARS || !VALID_SUBJECT.test(input.Subject)))
    return refuse('Invalid parameter: Subject');
  return undefined;
}

/**
 * An SNS stand-in that keeps every published message in an outbox (the drill prints it and its
 * simulated responder reads approval links from it). Only Publish exists, as in the code.
 */
export class SimulatedSns {
  readonly outbox: OutboxMessage[] = [];
  private readonly listeners: ((message: OutboxMessage) => void)[] = [];

  /** `now`: the drill's clock, so each message is dated in the drill's time. */
  constructor(private readonly now: () => Date = () => new Date()) {}

  onPublish(listener: (message: OutboxMessage) => void): void {
    this.listeners.push(listener);
  }

  /** As the SDK's send(): answered now, and what the answer throws (an unsupported command, a refusal) is the rejection. */
  send(command: unknown): Promise<{ MessageId: string }> {
    return new Promise((resolve) => resolve(this.publish(command)));
  }

  private publish(command: unknown): { MessageId: string } {
    if (!isCommand<PublishCommand>(command, 'PublishCommand'))
      throw new Error(`Simulated SNS does not support ${(command as object).constructor.name}`);
    const input = command.input;
    const refusal = publishRefusal(input);
    if (refusal) throw refusal;
    const message: OutboxMessage = {
      topicArn: input.TopicArn!,
      subject: input.Subject ?? '',
      body: input.Message!,
      at: this.now().toISOString(),
    };
    this.outbox.push(message);
    for (const listener of this.listeners) setImmediate(() => listener(message));
    return { MessageId: `drill-message-${this.outbox.length}` };
  }
}
