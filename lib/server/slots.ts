/**
 * The KV slots: `parallel` contexts, each holding the prompt of its last request, and the
 * bounded FIFO queue in front of them. A request that gets a permit takes the idle slot whose KV
 * shares the longest prefix with its prompt (encode once, ask many across requests).
 *
 * Admission comes first, as soon as a request's headers arrive: at most `parallel + queue`
 * requests are inside at once, so one past that gets its 503 before its body is read, parsed
 * and validated (a burst of requests costs the event loop little, and /health answers).
 */
import type { Context } from '../inference/context.js';
import { Sequence } from '../inference/sequence.js';
import { HttpError, shuttingDown } from './errors.js';
import { sharedEntries, type Entry } from './prefix.js';

export interface Slot {
  readonly id: number;
  /** The one KV sequence of the slot's context (created with `sequences: 1`). */
  readonly sequence: Sequence;
  /** The entries the slot's KV holds (keys only), in order. */
  held: Entry[];
  busy: boolean;
  lastUsed: number;
}

interface Waiter { resolve: () => void; reject: (e: unknown) => void; signal: AbortSignal; onAbort: () => void }

export class SlotPool {
  readonly slots: Slot[];
  readonly queueMax: number;
  #free: number;
  #admitted = 0;
  #waiters: Waiter[] = [];
  #closed = false;
  #onChange: () => void;

  constructor(contexts: Context[], queueMax: number, onChange: () => void = () => {}) {
    this.slots = contexts.map((context, id) => ({ id, sequence: new Sequence(context, 0), held: [], busy: false, lastUsed: 0 }));
    this.#free = contexts.length;
    this.queueMax = queueMax;
    this.#onChange = onChange;
  }

  get queued(): number { return this.#waiters.length; }
  /** Requests holding a permit: preparing their media or using a slot. */
  get busy(): number { return this.slots.length - this.#free; }

  /** Requests admitted and not yet finished: reading their body, queued or running. */
  get admitted(): number { return this.#admitted; }

  /**
   * Lets a request in, or refuses it (503 with Retry-After) when `parallel + queue` are inside
   * already. The returned function lets it out again; it may be called more than once.
   */
  admit(): () => void {
    if (this.#closed) throw shuttingDown();
    if (this.#admitted >= this.slots.length + this.queueMax) throw this.#busyError();
    this.#admitted++;
    let out = false;
    return () => {
      if (out) return;
      out = true;
      this.#admitted--;
    };
  }

  #busyError(): HttpError {
    return new HttpError(503, 'server_busy', `all ${this.slots.length} slots are busy and ${this.queueMax} requests wait: try again shortly`, { headers: { 'retry-after': '1' } });
  }

  /** Waits for a permit, first come first served; 503 with Retry-After when the queue is full. */
  acquire(signal: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(shuttingDown());
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#free > 0 && this.#waiters.length === 0) {
      this.#free--;
      return Promise.resolve();
    }
    if (this.#waiters.length >= this.queueMax) return Promise.reject(this.#busyError());
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        resolve, reject, signal,
        onAbort: () => { this.#remove(w); reject(signal.reason); },
      };
      signal.addEventListener('abort', w.onAbort, { once: true });
      this.#waiters.push(w);
      this.#onChange();
    });
  }

  #remove(w: Waiter): void {
    const i = this.#waiters.indexOf(w);
    if (i >= 0) this.#waiters.splice(i, 1);
    w.signal.removeEventListener('abort', w.onAbort);
    this.#onChange();
  }

  /** With a permit held: the idle slot sharing the most with `entries` (the least recently used on a tie). */
  take(entries: readonly Entry[] | null): { slot: Slot; shared: number } {
    let best: Slot | undefined, bestShared = -1;
    for (const s of this.slots) {
      if (s.busy) continue;
      const shared = entries ? sharedEntries(s.held, entries) : 0;
      if (shared > bestShared || (shared === bestShared && s.lastUsed < best!.lastUsed)) { best = s; bestShared = shared; }
    }
    if (!best) throw new Error('no idle slot with a permit held');
    best.busy = true;
    this.#onChange();
    return { slot: best, shared: bestShared };
  }

  /** Gives back a permit (and the slot, if one was taken). */
  release(slot: Slot | null): void {
    if (slot) { slot.busy = false; slot.lastUsed = performance.now(); }
    const w = this.#waiters.shift();
    if (w) {
      w.signal.removeEventListener('abort', w.onAbort);
      w.resolve();
    } else this.#free++;
    this.#onChange();
  }

  /** Refuses new requests and everything still queued. */
  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) {
      w.signal.removeEventListener('abort', w.onAbort);
      w.reject(shuttingDown());
    }
    this.#onChange();
  }
}
