import type { Clock } from '#shared/clock';
import type { Timer } from '#shared/rate-limit';

/**
 * The drill's clock: simulated time that moves only when everything that could run has run.
 *
 * Everything in a drill that waits on time waits on this clock: Step Functions task timeouts (the
 * approval waits, reminders and escalation), the simulated responders' reading time, TOTP steps,
 * the CloudTrail rate limit, link expiry. When no work is left (no callback queued, no tracked real
 * I/O such as the approval page's HTTP round trips in flight) the clock jumps to the earliest
 * pending wake-up and wakes that one sleeper, then waits for quiet again. So a 24-hour approval
 * window passes in milliseconds, and the order of events depends only on the simulated times, never
 * on how busy the machine is.
 *
 * Quiet is decided by the event loop, not by wall time: `quietTurns` consecutive turns (each a
 * setImmediate, after which every runnable promise has run) with no tracked I/O, no pending file
 * system request and no new activity. Work done through untracked real I/O other than the file
 * system would break that: the drill's own HTTP goes through `track`.
 */
export interface SimSleep {
  promise: Promise<void>;
  /** Drop the sleeper (the wait it stood for ended otherwise); it never wakes and never moves the clock. */
  cancel(): void;
}

interface Sleeper {
  wake: number;
  seq: number;
  resolve: () => void;
  label: string;
}

export class SimClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly sleepers: Sleeper[] = [];
  private inflight = 0;
  private quiet = 0;
  private scheduled = false;
  private stopped = false;
  private readonly stallListeners = new Set<(pending: string[]) => void>();
  /** How many times the clock jumped, and how far in all (ms): the drill reports them. */
  readonly stats = { jumps: 0, advancedMs: 0 };

  constructor(
    start: Date | number,
    private readonly quietTurns = 3,
  ) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  nowMs(): number {
    return this.current;
  }

  /** The rate limiter's view of this clock. */
  get timer(): Timer {
    return { now: () => this.current, sleep: (ms) => this.sleep(ms) };
  }

  sleep(ms: number, label = 'sleep'): Promise<void> {
    return this.timeout(ms, label).promise;
  }

  /** A wake-up `ms` from now that can be cancelled. */
  timeout(ms: number, label = 'sleep'): SimSleep {
    let sleeper: Sleeper | undefined;
    const promise = new Promise<void>((resolve) => {
      sleeper = { wake: this.current + Math.max(0, ms), seq: this.seq++, resolve, label };
    });
    if (this.stopped) return { promise, cancel: () => undefined };
    this.sleepers.push(sleeper!);
    this.activity();
    return {
      promise,
      cancel: () => {
        const i = this.sleepers.indexOf(sleeper!);
        if (i >= 0) this.sleepers.splice(i, 1);
      },
    };
  }

  /** Sleep until the simulated time `at` (now if it has passed). */
  until(at: number, label = 'sleep'): Promise<void> {
    return this.sleep(at - this.current, label);
  }

  /** Real work the clock must wait for (an HTTP round trip): time stands still until it settles. */
  async track<T>(work: Promise<T> | (() => Promise<T>)): Promise<T> {
    this.inflight += 1;
    this.activity();
    try {
      return await (typeof work === 'function' ? work() : work);
    } finally {
      this.inflight -= 1;
      this.activity();
    }
  }

  /**
   * Called when no work is left and nobody sleeps: whatever is still waiting (an execution on a task
   * token nobody will send) would wait forever. The drill turns that into an error.
   */
  onStall(listener: (pending: string[]) => void): () => void {
    this.stallListeners.add(listener);
    this.activity();
    return () => this.stallListeners.delete(listener);
  }

  /** Stop: pending sleepers never wake (the drill is over). */
  stop(): void {
    this.stopped = true;
    this.sleepers.length = 0;
  }

  get pending(): number {
    return this.sleepers.length;
  }

  private activity(): void {
    this.quiet = 0;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    if (this.sleepers.length === 0 && this.stallListeners.size === 0) return;
    this.scheduled = true;
    setImmediate(() => this.check());
  }

  private check(): void {
    this.scheduled = false;
    if (this.stopped) return;
    if (this.inflight > 0) return; // track() schedules the next check when the work settles
    if (pendingFileSystemRequests() > 0) {
      this.quiet = 0;
      // The request completes in libuv's pool; look again after the next turn.
      setTimeout(() => this.schedule(), 1);
      return;
    }
    if (++this.quiet < this.quietTurns) {
      this.schedule();
      return;
    }
    this.quiet = 0;
    if (this.sleepers.length === 0) {
      for (const listener of [...this.stallListeners]) listener([]);
      return;
    }
    let next = 0;
    for (let i = 1; i < this.sleepers.length; i++) {
      const a = this.sleepers[i]!;
      const b = this.sleepers[next]!;
      if (a.wake < b.wake || (a.wake === b.wake && a.seq < b.seq)) next = i;
    }
    const [sleeper] = this.sleepers.splice(next, 1);
    if (sleeper!.wake > this.current) {
      this.stats.jumps += 1;
      this.stats.advancedMs += sleeper!.wake - this.current;
      this.current = sleeper!.wake;
    }
    sleeper!.resolve();
    this.schedule();
  }
}

/** File system requests in flight in this process (evidence written with fs/promises). */
function pendingFileSystemRequests(): number {
  const info = (process as unknown as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo?.() ?? [];
  return info.filter((r) => r.startsWith('FSReq')).length;
}

/** The real clock with the same interface, for a person in the loop (the interactive drill). */
export class RealClock implements Clock {
  readonly stats = { jumps: 0, advancedMs: 0 };
  now(): Date {
    return new Date();
  }
  nowMs(): number {
    return Date.now();
  }
  get timer(): Timer {
    return { now: () => Date.now(), sleep: (ms) => this.sleep(ms) };
  }
  sleep(ms: number): Promise<void> {
    return this.timeout(ms).promise;
  }
  timeout(ms: number): SimSleep {
    let handle: NodeJS.Timeout | undefined;
    const promise = new Promise<void>((resolve) => {
      handle = setTimeout(resolve, Math.min(Math.max(0, ms), 2 ** 31 - 1));
    });
    return { promise, cancel: () => clearTimeout(handle) };
  }
  until(at: number): Promise<void> {
    return this.sleep(at - Date.now());
  }
  track<T>(work: Promise<T> | (() => Promise<T>)): Promise<T> {
    return typeof work === 'function' ? work() : work;
  }
  onStall(): () => void {
    return () => undefined;
  }
  stop(): void {}
  get pending(): number {
    return 0;
  }
}

export type DrillClock = SimClock | RealClock;
