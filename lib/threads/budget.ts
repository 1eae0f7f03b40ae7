/**
 * One budget of compute threads for the whole process. Every compute call that runs under the
 * policy (no explicit `threads`) holds a lease for the time of its native call: serve's slots,
 * concurrent asks, watch and batch jobs share the free cores instead of each taking every core.
 * When a call comes or goes, the leases are split again and the running calls follow at their
 * next graph (the native side reads the count before each decode and encoder batch). A call that
 * finds as many leases as threads waits for one to end: more single-threaded calls than cores
 * would only take turns on them anyway.
 */
import { abortError } from '../errors.js';
import { shareBudget, threadBudget, type SystemView } from './policy.js';
import { probeSystem } from './probe.js';

/** Sets a call's thread count on its native handles (a context, the model's encoder). */
export type ApplyThreads = (threads: number) => void;

export interface Lease {
  /** Threads the call has now (the budget may move it while it runs). */
  readonly threads: number;
  release(): void;
}

/** What a test or a benchmark reads: the budget last computed and the most threads ever given out at once. */
export interface BudgetStats { budget: number; inUse: number; leases: number; peakInUse: number; peakLeases: number; grants: number[]; decodeGrants: number[] }

class LeaseImpl implements Lease {
  threads = 0;
  released = false;
  constructor(readonly apply: ApplyThreads, readonly budget: ComputeBudget) {}
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.end(this);
  }
}

const DECODE_READING_MS = 1000;

export class ComputeBudget {
  #leases: LeaseImpl[] = [];
  #waiting: Array<() => void> = [];
  #budget = 1;
  #stats = { peakInUse: 0, peakLeases: 0, grants: [] as number[], decodeGrants: [] as number[] };
  #probe: (ownThreads: number) => Promise<SystemView>;

  constructor(probe: (ownThreads: number) => Promise<SystemView> = probeSystem) {
    this.#probe = probe;
    this.#readAt = -Infinity;
  }

  #readAt = -Infinity;

  async #read(): Promise<void> {
    this.#budget = threadBudget({ ...(await this.#probe(this.#inUse)), ownThreads: this.#inUse });
    this.#readAt = performance.now();
  }

  get #inUse(): number { return this.#leases.reduce((n, l) => n + l.threads, 0); }

  /** A lease for one native call (a compute call, or FFmpeg's decoding); waits while every thread of the budget is leased. */
  async acquire(apply: ApplyThreads, signal?: AbortSignal, kind: 'compute' | 'decode' = 'compute'): Promise<Lease> {
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      // a decoding call (one per frame) reuses a reading up to a second old: a fresh one may wait up to 50 ms
      if (kind === 'compute' || performance.now() - this.#readAt > DECODE_READING_MS) await this.#read();
      if (this.#leases.length < this.#budget) break;
      await new Promise<void>((resolve) => {
        const wake = () => { signal?.removeEventListener('abort', wake); resolve(); };
        this.#waiting.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
        if (signal?.aborted) wake(); // aborted while the machine was read
      });
    }
    const lease = new LeaseImpl(apply, this);
    this.#leases.push(lease);
    this.#split();
    const grants = kind === 'compute' ? this.#stats.grants : this.#stats.decodeGrants;
    grants.push(lease.threads);
    if (grants.length > 256) grants.shift();
    return lease;
  }

  /** Threads of the budget no lease holds now (the machine read again), at least 1: what a decoder opened now may start. */
  async free(): Promise<number> {
    await this.#read();
    return Math.max(1, this.#budget - this.#inUse);
  }

  /** @internal LeaseImpl.release */
  end(lease: LeaseImpl): void {
    this.#leases = this.#leases.filter((l) => l !== lease);
    this.#split();
    for (const wake of this.#waiting.splice(0)) wake();
  }

  /** Splits the budget between the leases (first come, first served with the remainder) and tells the calls whose share moved. */
  #split(): void {
    const shares = shareBudget(this.#budget, this.#leases.length);
    this.#leases.forEach((l, i) => {
      if (l.threads === shares[i]) return;
      l.threads = shares[i]!;
      try {
        l.apply(l.threads);
      } catch { /* its handle was disposed; the lease ends with its call */ }
    });
    this.#stats.peakInUse = Math.max(this.#stats.peakInUse, this.#inUse);
    this.#stats.peakLeases = Math.max(this.#stats.peakLeases, this.#leases.length);
  }

  stats(): BudgetStats {
    return { budget: this.#budget, inUse: this.#inUse, leases: this.#leases.length, ...this.#stats, grants: [...this.#stats.grants], decodeGrants: [...this.#stats.decodeGrants] };
  }

  /** @internal Reads the machine with `probe` from now on (tests and benchmarks give a fixed machine); no argument: the real one. */
  setProbe(probe: (ownThreads: number) => Promise<SystemView> = probeSystem): void {
    this.#probe = probe;
    this.#readAt = -Infinity;
  }

  /** Forgets the peaks (tests). */
  resetStats(): void {
    this.#stats = { peakInUse: this.#inUse, peakLeases: this.#leases.length, grants: [], decodeGrants: [] };
  }
}
