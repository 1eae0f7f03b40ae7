/**
 * The KV slots: `parallel` contexts, each holding the prompt of its last request, and the
 * bounded FIFO queue in front of them. A request that gets a permit takes the idle slot whose KV
 * shares the longest prefix with its prompt (encode once, ask many across requests): a prompt is
 * a list of entries (Entry), and sharedEntries says how many of them a slot's KV can keep.
 *
 * Admission comes first, as soon as a request's headers arrive: at most `parallel + queue`
 * requests are inside at once, so one past that gets its 503 before its body is read, parsed
 * and validated (a burst of requests costs the event loop little, and /health answers).
 */
import type { AudioItem, Context } from '../inference/context.js';
import { Sequence } from '../inference/context.js';
import { HttpError, shuttingDown } from './errors.js';

/**
 * A text token id, or a block of `count` positions named by `key` (what they were made from):
 * a run of pooled embeddings, or what libmtmd evaluated up to a request's last media marker
 * (`tokens`: its KV cells, more than its positions with M-RoPE; `visual`: each part's media
 * tokens as libmtmd counted them; `positions`: a pooled block's own M-RoPE positions, with
 * `count` its span and `tokens` its cells), or an audio clip of a pooled prompt (planEntries;
 * `pending` until a slot has evaluated it and its count is known).
 */
export type Entry = number | { key: string; count: number; embeddings?: Float32Array; tokens?: number; visual?: number[]; positions?: Int32Array; audio?: AudioItem; pending?: boolean };

/**
 * How many leading entries of `next` the KV of `held` can keep: equal entries, and never all of
 * `next` (the last position must be evaluated again to have logits to sample from).
 */
export function sharedEntries(held: readonly Entry[], next: readonly Entry[]): number {
  let i = 0;
  const n = Math.min(held.length, next.length);
  while (i < n) {
    const a = held[i]!, b = next[i]!;
    if (typeof a === 'number' || typeof b === 'number' ? a !== b : a.key !== b.key || a.count !== b.count || a.pending || b.pending) break;
    i++;
  }
  return Math.min(i, next.length - 1);
}

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
