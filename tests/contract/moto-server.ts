import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * moto_server for the contract tests: on 127.0.0.1 only, on a free port, with a bounded lifetime.
 *
 * One server per jest worker, started by the first contract file that worker runs and reused (after
 * `POST /moto-api/reset`) by the next: files in one worker run one after another, so a reset never
 * pulls state from under a running file, and a run without contract tests starts no server at all.
 * The jest global setup makes the run's folder (`RR_MOTO_DIR`), where each worker notes its server;
 * the global teardown stops every server noted there. Without that folder (another jest config),
 * a file starts its own server and stops it after its tests.
 *
 * Watchdog: moto_server runs under a small bash loop that kills it when the jest process it watches
 * is gone, or after MAX_LIFETIME_SECONDS, whichever comes first; so a killed test run never leaves
 * it behind. It runs in its own process group, stopped by that group's id.
 */
export const INSTALL_HINT = 'pip install "moto[server]"  (moto 5.2 or later; it provides the moto_server command)';
export const MAX_LIFETIME_SECONDS = 1800;
const READY_WITHIN_MS = 20_000;

export interface MotoServer {
  endpoint: string;
  /** The watchdog's pid, which is also the process group of moto_server. */
  pid: number;
  /** A folder of its own for its log (removed when it is stopped), when no log file was given. */
  logDir?: string;
}

/** True when the `moto_server` command runs here. */
export function motoInstalled(): boolean {
  return spawnSync('moto_server', ['-h'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

/** Refuse any endpoint that is not this machine's loopback: the tests send credentials-shaped data. */
export function assertLoopback(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' || !['127.0.0.1', '[::1]'].includes(url.hostname)) {
    throw new Error(`Refusing moto endpoint ${endpoint}: contract tests talk to moto_server on the loopback interface only`);
  }
  return endpoint;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether moto answers its reset call (which also empties it). */
export async function resetMoto(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${assertLoopback(endpoint)}/moto-api/reset`, { method: 'POST', signal: AbortSignal.timeout(5000) });
    return response.ok;
  } catch {
    return false;
  }
}

const WATCHDOG = `
moto_server -H 127.0.0.1 -p "$1" >"$2" 2>&1 &
moto=$!
# The whole process group (this shell leads it): moto_server may be a shim that forks Python.
trap 'trap - TERM; kill -TERM -- -$$ 2>/dev/null' EXIT
trap 'exit 0' TERM INT HUP
end=$((SECONDS + $3))
while kill -0 "$moto" 2>/dev/null && kill -0 "$4" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do sleep 1; done
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Start moto_server on a free loopback port; resolves once it answers. `watchPid`: stop when that process is gone. */
export async function startMoto(watchPid: number, log?: string): Promise<MotoServer> {
  if (!motoInstalled()) throw new Error(`moto_server is not installed, and the contract tests need it. Install it with: ${INSTALL_HINT}`);
  const logDir = log ? undefined : mkdtempSync(join(tmpdir(), 'rr-moto-'));
  const logFile = log ?? join(logDir!, 'moto_server.log');
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = spawn('bash', ['-c', WATCHDOG, 'moto-watchdog', String(port), logFile, String(MAX_LIFETIME_SECONDS), String(watchPid)], {
      detached: true,
      stdio: 'ignore',
    });
    child.unref();
    const pid = child.pid!;
    const deadline = Date.now() + READY_WITHIN_MS;
    while (Date.now() < deadline && alive(pid)) {
      if (await resetMoto(endpoint)) return { endpoint, pid, ...(logDir ? { logDir } : {}) };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    stopMoto({ pid });
    lastError = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '(no output)';
  }
  if (logDir) rmSync(logDir, { recursive: true, force: true });
  throw new Error(`moto_server did not answer on 127.0.0.1 within ${READY_WITHIN_MS / 1000} s. Its output:\n${lastError}`);
}

/** Stop the watchdog's process group (moto_server with it). */
export function stopMoto(server: Pick<MotoServer, 'pid' | 'logDir'>): void {
  // Only while that pid is still our watchdog: after it ended on its own, the number may be another's.
  if (isWatchdog(server.pid)) {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
  if (server.logDir) rmSync(server.logDir, { recursive: true, force: true });
}

function isWatchdog(pid: number): boolean {
  // Linux: /proc; elsewhere ps. (Without either, nothing is killed here: the watchdog still ends
  // moto_server within a second of the jest process it watches.)
  const proc = `/proc/${pid}/cmdline`;
  if (existsSync('/proc/self/cmdline')) return existsSync(proc) && readFileSync(proc, 'utf8').includes('moto-watchdog');
  const out = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
  return out.status === 0 && out.stdout.includes('moto-watchdog');
}

/** The run's folder of per-worker servers (set by the jest global setup), if any. */
export function runDir(): string | undefined {
  const dir = process.env['RR_MOTO_DIR'];
  return dir && existsSync(dir) ? dir : undefined;
}

/** Global setup: a folder where each worker notes the server it starts. */
export function prepareRunDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rr-moto-run-'));
  process.env['RR_MOTO_DIR'] = dir;
  process.env['RR_MOTO_WATCH_PID'] = String(process.pid);
  return dir;
}

/** Global teardown: stop every server the workers noted, remove the folder. */
export function stopRunServers(dir = process.env['RR_MOTO_DIR']): void {
  if (!dir || !existsSync(dir)) return;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    try {
      stopMoto(JSON.parse(readFileSync(join(dir, file), 'utf8')) as MotoServer);
    } catch {
      // a half-written note: its watchdog ends it with this process
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** This worker's server: the one it started for an earlier file, or a new one. Reset either way. */
export async function workerServer(dir: string): Promise<MotoServer> {
  const note = join(dir, `worker-${process.env['JEST_WORKER_ID'] ?? '1'}.json`);
  if (existsSync(note)) {
    const known = JSON.parse(readFileSync(note, 'utf8')) as MotoServer;
    if (alive(known.pid) && (await resetMoto(known.endpoint))) return known;
    stopMoto(known);
  }
  const server = await startMoto(
    Number(process.env['RR_MOTO_WATCH_PID'] ?? process.pid),
    join(dir, `worker-${process.env['JEST_WORKER_ID'] ?? '1'}.log`),
  );
  writeFileSync(note, JSON.stringify(server));
  return server;
}
