/**
 * A strict per-key rate limiter: call starts are spaced at least 1000/rate ms apart, so no
 * sliding one-second window ever holds more than `rate` calls. CloudTrail LookupEvents allows
 * 2 calls/s per account per region: one limiter per (account, region).
 * Time comes in through `now` and `sleep`, so tests run on a fake clock.
 */
export interface Timer {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realTimer: Timer = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Anything that hands out turns for a key. */
export interface Limiter {
  take(): Promise<void>;
}

export interface LimiterPool {
  for(key: string): Limiter;
}

export class RateLimiter implements Limiter {
  private next = -Infinity;
  private readonly spacing: number;

  constructor(
    ratePerSecond: number,
    private readonly timer: Timer,
  ) {
    this.spacing = 1000 / ratePerSecond;
  }

  /** Wait for this caller's turn. Callers are served in the order they ask. */
  async take(): Promise<void> {
    const now = this.timer.now();
    const at = Math.max(now, this.next);
    this.next = at + this.spacing;
    if (at > now) await this.timer.sleep(at - now);
  }
}

/** One limiter per key (e.g. `${accountId}:${region}`), created on first use. */
/** In-process limiters: enough for one container; see SharedMeter for many. */
export class RateLimiters implements LimiterPool {
  private readonly limiters = new Map<string, RateLimiter>();
  constructor(
    private readonly ratePerSecond: number,
    private readonly timer: Timer,
  ) {}

  for(key: string): RateLimiter {
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = new RateLimiter(this.ratePerSecond, this.timer);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }
}

/**
 * A discrete-event clock for tests and benchmarks: nothing really waits. Each pending sleep is
 * woken in order of its wake-up time, one per macrotask turn, after all the work that could run
 * (microtasks) has run, so concurrent callers see a consistent timeline.
 */
export function virtualTimer(start = 0): Timer & { readonly elapsed: number } {
  let now = start;
  let seq = 0;
  let scheduled = false;
  const sleepers: { wake: number; seq: number; resolve: () => void }[] = [];
  const pump = () => {
    scheduled = false;
    sleepers.sort((a, b) => a.wake - b.wake || a.seq - b.seq);
    const next = sleepers.shift();
    if (!next) return;
    if (next.wake > now) now = next.wake;
    next.resolve();
    if (sleepers.length > 0) schedule();
  };
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(pump);
    }
  };
  return {
    now: () => now,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        sleepers.push({ wake: now + Math.max(0, ms), seq: seq++, resolve });
        schedule();
      }),
    get elapsed() {
      return now - start;
    },
  };
}
