import type { SNSClient as Client } from '@aws-sdk/client-sns';

/** The part of the SNS client steps use. */
export type SNSClient = Pick<Client, 'send'>;
