/**
 * Transient faults for the drill's local stand-ins (DynamoDB, SNS), as the simulated AWS injects
 * them into every other call: a seeded fraction of requests fails with throttling or a 5xx before
 * it reaches the service, or - the harder case - is carried out and then its response is lost
 * (a timeout), so the caller's retry repeats a write that already happened. The wrapper retries
 * like the SDK (maxAttempts in all), and gives the caller the last error when every attempt fails.
 */

/** mulberry32: the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FlakyStats {
  /** Requests failed before they reached the stand-in. */
  rejected: number;
  /** Requests carried out whose response was then lost. */
  lostResponses: number;
  /** Calls that failed after every attempt (the caller saw the error). */
  exhausted: number;
}

const BEFORE = ['ThrottlingException', 'InternalServerError', 'ServiceUnavailable'];

function transient(name: string, status: number): Error {
  return Object.assign(new Error(`Injected ${name}`), { name, $metadata: { httpStatusCode: status } });
}

export function flaky<T extends { send(command: unknown): Promise<unknown> }>(
  inner: T,
  options: { rate: number; random: () => number; maxAttempts?: number; lostResponseShare?: number; isWrite: (command: unknown) => boolean },
): { send(command: unknown): Promise<unknown>; stats: FlakyStats } {
  const stats: FlakyStats = { rejected: 0, lostResponses: 0, exhausted: 0 };
  const maxAttempts = options.maxAttempts ?? 4;
  const lostShare = options.lostResponseShare ?? 0.3;
  return {
    stats,
    async send(command: unknown) {
      for (let attempt = 1; ; attempt++) {
        try {
          if (options.random() < options.rate) {
            if (options.isWrite(command) && options.random() < lostShare) {
              await inner.send(command);
              stats.lostResponses += 1;
              throw transient('RequestTimeout', 408);
            }
            stats.rejected += 1;
            const name = BEFORE[Math.floor(options.random() * BEFORE.length)]!;
            throw transient(name, name === 'ThrottlingException' ? 400 : 500);
          }
          return await inner.send(command);
        } catch (error) {
          const name = (error as Error).name;
          const retryable = name === 'RequestTimeout' || BEFORE.includes(name);
          if (!retryable) throw error;
          if (attempt >= maxAttempts) {
            stats.exhausted += 1;
            throw error;
          }
        }
      }
    },
  };
}
