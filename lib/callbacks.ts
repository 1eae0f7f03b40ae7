/**
 * Callbacks a caller passes (onProgress, onToken) run inside vidlm's work. One that throws, or
 * returns a promise that rejects, cancels that work: the call rejects with ERR_CALLBACK, whose
 * `cause` is what the callback threw. A call waits for the promises its callbacks returned
 * before it settles, and calls no callback after it has settled (a progress report still queued
 * from a worker thread by then is dropped: calls report their own end, fraction 1). Native code only ever calls the wrappers made here,
 * which never throw, so no exception crosses a thread-safe function and no rejection goes
 * unhandled.
 */
import { VidlmError } from './errors.js';

export class CallbackGuard {
  /** Aborted when the caller's signal aborts (same reason) or when a callback fails. */
  readonly signal: AbortSignal;
  #own = new AbortController();
  #caller: AbortSignal | undefined;
  #forward = () => this.#own.abort(this.#caller!.reason);
  #failure: VidlmError | undefined;
  #inflight = new Set<Promise<unknown>>();
  #settled = false;

  constructor(signal?: AbortSignal) {
    this.signal = this.#own.signal;
    this.#caller = signal;
  }

  /** `fn` made safe to call from anywhere; undefined stays undefined. */
  wrap<A extends unknown[]>(name: string, fn: ((...args: A) => unknown) | undefined): ((...args: A) => void) | undefined {
    if (!fn) return undefined;
    return (...args: A) => {
      if (this.#failure || this.#settled) return;
      try {
        const r = fn(...args);
        if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
          const p = Promise.resolve(r).catch((e: unknown) => this.#fail(name, e));
          this.#inflight.add(p);
          void p.finally(() => this.#inflight.delete(p));
        }
      } catch (e) {
        this.#fail(name, e);
      }
    };
  }

  /** Runs the guarded work; a callback's failure wins over the abort it caused. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    // the caller's signal is watched only while the work runs: a long-lived one collects no listeners
    if (this.#caller?.aborted) this.#forward();
    else this.#caller?.addEventListener('abort', this.#forward, { once: true });
    try {
      let result: T | undefined, error: unknown, failed = false;
      try {
        result = await work();
      } catch (e) {
        failed = true;
        error = e;
      }
      while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
      if (this.#failure) throw this.#failure;
      if (failed) throw error;
      return result as T;
    } finally {
      this.#settled = true;
      this.#caller?.removeEventListener('abort', this.#forward);
    }
  }

  #fail(name: string, e: unknown): void {
    if (this.#failure) return;
    const why = e instanceof Error ? e.message : String(e);
    this.#failure = new VidlmError('ERR_CALLBACK', `${name} threw: ${why}`, { callback: name }, { cause: e });
    this.#own.abort(this.#failure);
  }
}
