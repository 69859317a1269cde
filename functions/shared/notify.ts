import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { isTransientAwsError, NotificationError, TransientAwsError } from './errors';

/**
 * Publish one email-style message. Subjects are cut to SNS's 100 characters; a transient failure
 * is retried by the state machine, anything else is a NotificationError.
 */
export interface Message {
  subject: string;
  body: string;
  attributes?: Record<string, string>;
}

export const notifyPermissions = ['sns:Publish'] as const;

export async function publish(sns: Pick<SNSClient, 'send'>, topicArn: string, message: Message): Promise<string | undefined> {
  try {
    const out = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: message.subject.replace(/[\r\n]+/g, ' ').slice(0, 100),
        Message: message.body,
        ...(message.attributes
          ? { MessageAttributes: Object.fromEntries(Object.entries(message.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])) }
          : {}),
      }),
    );
    return out.MessageId;
  } catch (error) {
    if (isTransientAwsError(error)) throw new TransientAwsError('sns:Publish', { cause: error });
    throw new NotificationError(`Publishing "${message.subject.slice(0, 60)}" failed: ${(error as Error).name}`, { cause: error });
  }
}
