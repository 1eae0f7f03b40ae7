/**
 * How a model's compute calls get their threads: fixed (`threads` given to loadModel or
 * createContext) or from the process's shared budget under the policy (the default).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { invalid } from '../options.js';
import { ComputeBudget, type Lease } from './budget.js';
import { DEFAULT_POLL, POLICY_POLL } from './policy.js';

export { ComputeBudget, type BudgetStats, type Lease } from './budget.js';
export { capacity, decodeBudget, externalLoad, POLICY_POLL, shareBudget, threadBudget, type PolicyInput, type SystemView } from './policy.js';

/** A native handle whose next graphs run with the given threads and polling level. */
export interface ComputeHandle { setCompute(threads: number, poll: number): void }

/** A model's (or a context's) thread settings: `threads` null = the policy. */
export interface ComputeConfig { threads: number | null; poll: number }

/** The process's one budget: every model, context and surface shares it. */
export const computeBudget = new ComputeBudget();

/** `threads` of loadModel / createContext: an integer from 1 to 1024, or 'auto' (the policy). */
export function checkThreads(v: unknown, fallback: number | null): number | null {
  if (v === undefined) return fallback;
  if (v === 'auto') return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1024) throw invalid('threads', "an integer from 1 to 1024 or 'auto'", v);
  return v;
}

/** `poll`: ggml's polling level 0 to 100 (a persistent pool whose idle workers spin that long before sleeping), or 'auto'. */
export function checkPoll(v: unknown): number {
  if (v === undefined || v === 'auto') return DEFAULT_POLL;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) throw invalid('poll', "an integer from 0 to 100 or 'auto'", v);
  return v;
}

/**
 * Runs one native call with its threads: fixed ones set on the handles, or a lease of the shared
 * budget held for the call (the budget may move it while it runs; the handles follow).
 */
export async function withThreads<T>(config: ComputeConfig, handles: readonly ComputeHandle[], job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  if (config.threads !== null) {
    for (const h of handles) h.setCompute(config.threads, config.poll);
    return job();
  }
  const poll = config.poll === DEFAULT_POLL ? POLICY_POLL : config.poll;
  const lease: Lease = await computeBudget.acquire((n) => { for (const h of handles) h.setCompute(n, poll); }, signal);
  try {
    return await job();
  } finally {
    lease.release();
  }
}

/**
 * FFmpeg's decoding threads under the policy (openVideo without `threads`): FFmpeg fixes a
 * decoder's count when it opens, so a video takes the cores vidlm's own compute calls leave at its
 * first walk (decodeThreads; other processes' load does not lower it: decoding threads sleep rather
 * than spin, policy.ts decodeBudget), and each native decoding call holds a lease meanwhile
 * (withDecodeLease): compute calls that start beside it get their share of what is left instead of
 * every core.
 */
export async function decodeThreads(): Promise<number> {
  const free = await computeBudget.free();
  return Math.max(1, free - (reserved.getStore() ?? 0));
}

/** Compute threads kept back from the decoders opened inside reserving() (decoding beside encoding). */
const reserved = new AsyncLocalStorage<number>();

/**
 * Runs `job` with `threads` of the process's cores kept back from every decoder it opens under the
 * policy: decoding beside encoding (lib/pipeline/overlap.ts) opens its decoder with the cores the
 * encoder's lease will not take, so the two stages together never run more threads than the cores
 * the process may use.
 */
export function reserving<T>(threads: number, job: () => Promise<T>): Promise<T> {
  return reserved.run(threads, job);
}

export async function withDecodeLease<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const lease = await computeBudget.acquire(() => { /* the decoder keeps the count it opened with */ }, signal, 'decode');
  try {
    return await job();
  } finally {
    lease.release();
  }
}
