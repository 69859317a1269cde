import { DescribeExecutionCommand, ExecutionDoesNotExist, type SFNClient } from '@aws-sdk/client-sfn';
import { ExecutionStatusError, isAwsError, isTransientAwsError, TransientAwsError } from './errors';

/** IAM actions executionEndedStatus needs (on the state machine's executions). */
export const executionStatusPermissions = ['states:DescribeExecution'] as const;

/**
 * Whether an execution has ended: undefined while it runs (RUNNING, or PENDING_REDRIVE about to run
 * again), else its status (SUCCEEDED, FAILED, TIMED_OUT, ABORTED), or DOES_NOT_EXIST when Step
 * Functions has no such execution (never started, or its 90 days of history are over).
 * Throttling and 5xx: TransientAwsError (intake retries); anything else: ExecutionStatusError.
 */
export async function executionEndedStatus(sfn: Pick<SFNClient, 'send'>, executionArn: string): Promise<string | undefined> {
  try {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const status = out.status ?? 'UNKNOWN';
    return status === 'RUNNING' || status === 'PENDING_REDRIVE' ? undefined : status;
  } catch (error) {
    if (isAwsError(error, ExecutionDoesNotExist)) return 'DOES_NOT_EXIST';
    if (isTransientAwsError(error)) throw new TransientAwsError('states:DescribeExecution', { cause: error });
    throw new ExecutionStatusError(`DescribeExecution on ${executionArn} failed: ${(error as Error).name}`, { cause: error });
  }
}
