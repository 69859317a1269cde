import { randomBytes } from 'node:crypto';

/**
 * The drill's stand-in for Step Functions' task tokens: a waitForTaskToken task registers its
 * token and waits; SendTaskSuccess / SendTaskFailure settle it. A token works once; settling an
 * unknown or settled token fails like AWS does (TaskTimedOut).
 */
export class TaskTokenBroker {
  private readonly pending = new Map<string, { resolve: (output: unknown) => void; reject: (error: Error) => void }>();

  newToken(): string {
    return `drill-token-${randomBytes(24).toString('base64url')}`;
  }

  wait(token: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.set(token, { resolve, reject });
    });
  }

  /** The workflow stopped waiting (timeout): the token dies with the wait. */
  forget(token: string): void {
    this.pending.delete(token);
  }

  succeed(token: string, output: unknown): void {
    this.take(token).resolve(output);
  }

  fail(token: string, name: string, cause: string): void {
    const error = new Error(cause);
    error.name = name;
    this.take(token).reject(error);
  }

  get waiting(): number {
    return this.pending.size;
  }

  private take(token: string) {
    const entry = this.pending.get(token);
    if (!entry) {
      const error = new Error('Task Timed Out: the token is not waiting (timed out, already used, or unknown)');
      error.name = 'TaskTimedOut';
      throw error;
    }
    this.pending.delete(token);
    return entry;
  }
}
