import type { LocalClients } from '../clients';
import { localContext } from '../local-context';

/**
 * What every client factory in this folder shares: the retry settings, the cache that keeps one
 * client per service, account and region for a cold start, and the drill's local context.
 */
export const RETRY = { maxAttempts: 4, retryMode: 'adaptive' } as const;

const cache = new Map<string, unknown>();
/** Per drill context: what a Lambda container would keep for its lifetime. */
const localCache = new WeakMap<LocalClients, Map<string, unknown>>();

/** The drill's simulated services for this invocation (always undefined in Lambda). */
export function local(): LocalClients | undefined {
  return localContext<LocalClients>();
}

/** Made once per cold start under `key`. */
export function once<T>(key: string, make: () => T): T {
  if (!cache.has(key)) cache.set(key, make());
  return cache.get(key) as T;
}

/** Made once per drill context under `key`. */
export function onceLocal<T>(clients: LocalClients, key: string, make: () => T): T {
  let map = localCache.get(clients);
  if (!map) localCache.set(clients, (map = new Map<string, unknown>()));
  if (!map.has(key)) map.set(key, make());
  return map.get(key) as T;
}

/** The region option, when one is given (else the SDK takes the Lambda's own). */
export function inRegion(region: string | undefined): { region?: string } {
  return region ? { region } : {};
}
