import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { isAwsError, storeCall, type StoreErrorClass } from './errors';

/** A DynamoDB write whose condition did not hold: ConditionalCheckFailed, or a transaction cancelled for one. */
export function conditionFailed(error: unknown): boolean {
  if (isAwsError(error, ConditionalCheckFailedException)) return true;
  if (isAwsError(error, TransactionCanceledException)) {
    const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    return reasons.some((r) => r.Code === 'ConditionalCheckFailed');
  }
  return false;
}

/**
 * A write with a condition (written only if absent, or only if unchanged since read): true when
 * written, false when the condition did not hold (what that means is the caller's to decide); any
 * other failure mapped by storeCall, onto TransientAwsError or the store's own error class.
 */
export async function conditionalWrite(
  operation: string,
  run: () => Promise<unknown>,
  ErrorClass: StoreErrorClass,
  failed: string,
): Promise<boolean> {
  try {
    await storeCall(operation, run, ErrorClass, failed, conditionFailed);
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
}
