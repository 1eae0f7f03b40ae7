/**
 * One budget of compute threads for the whole process. Every compute call that runs under the
 * policy (no explicit `threads`) holds a lease for the time of its native call: serve's slots,
 * concurrent asks, watch and batch jobs share the free cores instead of each taking every core.
 * When a call comes or goes, the leases are split again and the running calls follow at their
 * next graph (the native side reads the count before each decode and encoder batch). A compute call that
 * finds as many compute leases as threads waits for one to end (never for decoding leases: a decoding
 * lane may itself wait on the encoder): more single-threaded calls than cores
 * would only take turns on them anyway. A decoding call waits only for vidlm's own leases to fill
 * the cores the process may use: it has no spinning barrier, so other processes' load does not
 * make it collapse (policy.ts decodeBudget).
 */
import { abortError } from '../errors.js';
import { capacity, decodeBudget, shareBudget, threadBudget, type SystemView } from './policy.js';
import { probeSystem } from './probe.js';

/** Sets a call's thread count on its native handles (a context, the model's encoder). */
export type ApplyThreads = (threads: number) => void;

export interface Lease {
  /** Threads the call has now (the budget may move it while it runs). */
  readonly threads: number;
  release(): void;
}

/** What a test or a benchmark reads: the budget last computed and the most threads ever given out at once. */
export interface BudgetStats {
  budget: number; inUse: number; leases: number; peakInUse: number; peakLeases: number;
  /** The most threads compute calls (not decoding) held at once: what the budget caps. */
  peakComputeInUse: number;
  grants: number[]; decodeGrants: number[];
}

class LeaseImpl implements Lease {
  threads = 0;
  released = false;
  constructor(readonly apply: ApplyThreads, readonly budget: ComputeBudget, readonly kind: 'compute' | 'decode') {}
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
  /** The machine as last read: decoding calls may fill its capacity (cpus, quota). */
  #view: SystemView = { cores: 1, quota: null, load1: 0, busy: null };
  #stats = { peakInUse: 0, peakLeases: 0, peakComputeInUse: 0, grants: [] as number[], decodeGrants: [] as number[] };
  #probe: (ownThreads: number) => Promise<SystemView>;

  constructor(probe: (ownThreads: number) => Promise<SystemView> = probeSystem) {
    this.#probe = probe;
    this.#readAt = -Infinity;
  }

  #readAt = -Infinity;

  async #read(): Promise<void> {
    this.#view = await this.#probe(this.#inUse);
    this.#budget = threadBudget({ ...this.#view, ownThreads: this.#inUse });
    this.#readAt = performance.now();
  }

  get #inUse(): number { return this.#leases.reduce((n, l) => n + l.threads, 0); }
  get #computeInUse(): number { return this.#leases.reduce((n, l) => n + (l.kind === 'compute' ? l.threads : 0), 0); }

  /** A lease for one native call (a compute call, or FFmpeg's decoding); waits while every thread of the budget is leased. */
  async acquire(apply: ApplyThreads, signal?: AbortSignal, kind: 'compute' | 'decode' = 'compute'): Promise<Lease> {
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      // a decoding call (one per frame) reuses a reading up to a second old: a fresh one may wait up to 50 ms
      if (kind === 'compute' || performance.now() - this.#readAt > DECODE_READING_MS) await this.#read();
      // a compute call waits for compute leases only: decoding leases are re-taken after every frame,
      // so counting them could keep a compute call waiting for a whole concurrent decode or longer
      const held = kind === 'decode' ? this.#leases.length : this.#leases.filter((l) => l.kind === 'compute').length;
      if (held < (kind === 'decode' ? capacity(this.#view) : this.#budget)) break;
      await new Promise<void>((resolve) => {
        const wake = () => { signal?.removeEventListener('abort', wake); resolve(); };
        this.#waiting.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
        if (signal?.aborted) wake(); // aborted while the machine was read
      });
    }
    const lease = new LeaseImpl(apply, this, kind);
    this.#leases.push(lease);
    this.#split();
    const grants = kind === 'compute' ? this.#stats.grants : this.#stats.decodeGrants;
    grants.push(lease.threads);
    if (grants.length > 256) grants.shift();
    return lease;
  }

  /** What a decoder opened now may start (the machine read again): the cores vidlm's own leases leave, at least 1 (policy.ts decodeBudget). */
  async free(): Promise<number> {
    await this.#read();
    return decodeBudget({ ...this.#view, ownThreads: this.#inUse });
  }

  /** The compute threads free now (the machine read again): the budget a compute call would share. */
  async computeFree(): Promise<number> {
    await this.#read();
    return this.#budget;
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
    this.#stats.peakComputeInUse = Math.max(this.#stats.peakComputeInUse, this.#computeInUse);
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
    this.#stats = { peakInUse: this.#inUse, peakLeases: this.#leases.length, peakComputeInUse: this.#computeInUse, grants: [], decodeGrants: [] };
  }
}
