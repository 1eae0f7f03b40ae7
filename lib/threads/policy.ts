/**
 * The thread policy: how many CPU threads a compute call of vidlm (an encoder batch, a prefill, a
 * generation) gets, from what the process can see. A pure function of its inputs, so a test can
 * give it any machine.
 *
 * Why threads, and not ggml's polling level: ggml's workers spin at every barrier inside a graph
 * (ggml_barrier has no sleeping path), so a graph run with more threads than there are free
 * cores waits at each barrier for a thread that lost its core, 10 to 190 times slower (issue 26).
 * The polling level only governs the wait between graphs. So the policy counts free cores and
 * never gives out more threads than that, sharing them between vidlm's own concurrent calls.
 */

/** What the process sees of its machine. */
export interface SystemView {
  /** CPUs this process may run on (os.availableParallelism(): affinity masks included). */
  cores: number;
  /** The cgroup's CPU quota in cores (cpu.max: quota / period); null when unlimited or unknown. */
  quota: number | null;
  /** Load average over one minute (0 where the OS has none, e.g. Windows). */
  load1: number;
  /**
   * Cores other work kept busy over the last moment (Linux: /proc/stat over 50 ms to 2 s, less this
   * process's own CPU time; work at nice > 0 not counted unless vidlm runs niced too: it yields its
   * core); null where there is no such count.
   */
  busy: number | null;
}

export interface PolicyInput extends SystemView {
  /** Compute threads vidlm runs now in this process (leases other than the one asked for). */
  ownThreads: number;
}

/** Cores this process may use at all: the CPUs it may run on, capped by the cgroup quota. */
export function capacity(v: Pick<SystemView, 'cores' | 'quota'>): number {
  const cores = Math.max(1, Math.floor(v.cores));
  const quota = v.quota === null || !(v.quota > 0) ? cores : v.quota;
  return Math.max(1, Math.min(cores, Math.floor(quota + 1e-9)));
}

/**
 * Cores other work keeps busy. The CPU-time reading is what is happening now; the load average lags
 * by a minute, counts vidlm's own past work and niced work, so it is used only where there is no
 * reading (less the threads vidlm runs now, which it includes).
 */
export function externalLoad(v: PolicyInput): number {
  if (v.busy !== null) return Math.max(0, v.busy);
  return Math.max(0, v.load1 - v.ownThreads);
}

/**
 * The compute-thread budget of the whole process: free cores, rounded to the nearest (a machine
 * with 0.3 cores of background work is idle), at least 1.
 */
export function threadBudget(v: PolicyInput): number {
  return Math.max(1, Math.min(capacity(v), Math.round(capacity(v) - externalLoad(v))));
}

/**
 * The threads a decoder opened now may start: the cores the process may use, less the threads
 * vidlm's own calls hold now, whatever other processes keep busy (and decoding calls may fill those
 * cores, budget.ts). FFmpeg's frame and slice threads wait for each other on condition variables (they sleep),
 * and two lanes of a walk are independent decoders: neither has a spinning barrier that collapses
 * when a thread loses its core, so capping them at the free cores only gave the other work a larger
 * share of the CPU (issue 26, the contention bench's decode column beside load).
 */
export function decodeBudget(v: PolicyInput): number {
  return Math.max(1, capacity(v) - Math.max(0, Math.floor(v.ownThreads)));
}

/**
 * How `budget` threads are split between `calls` concurrent calls: as evenly as whole threads
 * allow, the remainder to the calls that came first; one each when there are more calls than
 * threads (a single-threaded graph has no barrier, so sharing a core costs time, not a collapse).
 */
export function shareBudget(budget: number, calls: number): number[] {
  const n = Math.max(0, Math.floor(calls));
  const b = Math.max(1, Math.floor(budget));
  const base = Math.floor(b / n), extra = b % n;
  return Array.from({ length: n }, (_, i) => Math.max(1, base + (i < extra ? 1 : 0)));
}

/** `poll: 'auto'` with fixed threads: -1, ggml's own pool per graph (what vidlm did before the policy). */
export const DEFAULT_POLL = -1;

/**
 * `poll: 'auto'` under the policy: a persistent pool whose workers sleep as soon as a graph ends.
 * ggml's per-graph pool starts and joins its workers for every graph, i.e. for every generated
 * token; beside other work a new thread waits for a core (a scheduler slice, ~4 to 12 ms) while the
 * first thread spins at the graph's first barrier, so a 2-thread answer ran at ~80 tokens/s where
 * 1 thread runs ~2,000 (issue 26, idle rows). A sleeping worker that is woken gets a core at once.
 */
export const POLICY_POLL = 0;
