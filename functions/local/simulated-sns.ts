import type { PublishCommand } from '@aws-sdk/client-sns';
import { isCommand } from './simulated-dynamodb';

/** One message the drill "sent": what a responder's mailbox would receive. */
export interface OutboxMessage {
  topicArn: string;
  subject: string;
  body: string;
  at: string;
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

  async send(command: unknown): Promise<{ MessageId: string }> {
    if (!isCommand<PublishCommand>(command, 'PublishCommand')) throw new Error(`Simulated SNS does not support ${(command as object).constructor.name}`);
    const input = command.input;
    if (!input.TopicArn || !input.Message) {
      const error = new Error('TopicArn and Message are required');
      error.name = 'InvalidParameterException';
      throw error;
    }
    const message: OutboxMessage = { topicArn: input.TopicArn, subject: input.Subject ?? '', body: input.Message, at: this.now().toISOString() };
    this.outbox.push(message);
    for (const listener of this.listeners) setImmediate(() => listener(message));
    return { MessageId: `drill-message-${this.outbox.length}` };
  }
}
