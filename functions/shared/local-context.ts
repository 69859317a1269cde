/**
 * How the drill reaches the deployed handlers without changing them. In Lambda nothing sets this and
 * every factory builds real AWS clients. The drill runs each handler invocation inside an
 * AsyncLocalStorage context it keeps on `globalThis` under a registered symbol: each bundle carries
 * its own copy of this module, so a module variable could not be shared, and a context per
 * invocation (rather than one global setting) lets two drills run in one process.
 */
export const LOCAL_CONTEXT_KEY = Symbol.for('root-responder.local-context');

interface ContextHost<T> {
  getStore(): T | undefined;
}

/** The drill's context for this invocation, if any (always undefined in Lambda). */
export function localContext<T>(): T | undefined {
  return (globalThis as unknown as Record<symbol, ContextHost<T> | undefined>)[LOCAL_CONTEXT_KEY]?.getStore();
}
