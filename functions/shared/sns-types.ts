import type { SNSClient } from '@aws-sdk/client-sns';

/** The part of the SNS client steps use (named apart from the SDK's class, which it would shadow). */
export type SnsSender = Pick<SNSClient, 'send'>;
