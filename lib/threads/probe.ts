/**
 * What the thread policy reads of the machine: CPUs (affinity included), the cgroup's CPU quota,
 * the load average, and the tasks runnable right now (Linux's /proc/loadavg, sampled a few times
 * a couple of milliseconds apart, the least kept, so a passing blip is not taken for load).
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SystemView } from './policy.js';

/** cgroup v2 `cpu.max` ("max 100000" or "200000 100000") or v1's quota and period, as cores; null when unlimited. */
export function parseCpuMax(text: string): number | null {
  const [q, p] = text.trim().split(/\s+/);
  const quota = Number(q), period = Number(p ?? 100000);
  if (q === 'max' || !(quota > 0) || !(period > 0)) return null;
  return quota / period;
}

async function readQuota(): Promise<number | null> {
  try {
    return parseCpuMax(await readFile('/sys/fs/cgroup/cpu.max', 'utf8'));
  } catch { /* not cgroup v2 */ }
  try {
    const [q, p] = await Promise.all([readFile('/sys/fs/cgroup/cpu/cpu.cfs_quota_us', 'utf8'), readFile('/sys/fs/cgroup/cpu/cpu.cfs_period_us', 'utf8')]);
    return parseCpuMax(`${q.trim() === '-1' ? 'max' : q.trim()} ${p.trim()}`);
  } catch {
    return null;
  }
}

/** The runnable count of /proc/loadavg ("0.52 0.58 0.59 3/467 12345": 3). */
export function parseRunnable(text: string): number | null {
  const m = /^\S+\s+\S+\s+\S+\s+(\d+)\//.exec(text);
  return m ? Number(m[1]) : null;
}

let quota: Promise<number | null> | undefined;
let last: { at: number; runnable: number | null } | undefined;
const FRESH_MS = 200, SAMPLES = 3, GAP_MS = 2;

async function runnableNow(): Promise<number | null> {
  if (last && performance.now() - last.at < FRESH_MS) return last.runnable;
  let least: number | null = null;
  for (let i = 0; i < SAMPLES; i++) {
    if (i > 0) await sleep(GAP_MS);
    const r = await readFile('/proc/loadavg', 'utf8').then(parseRunnable, () => null);
    if (r === null) break;
    least = least === null ? r : Math.min(least, r);
  }
  last = { at: performance.now(), runnable: least };
  return least;
}

/**
 * The machine as the policy takes it. `ownThreads`: vidlm's compute threads running now, which
 * the runnable count includes; the reading thread itself is one more.
 */
export async function probeSystem(ownThreads: number): Promise<SystemView> {
  quota ??= readQuota(); // fixed for the life of the process
  const runnable = await runnableNow();
  return {
    cores: availableParallelism(),
    quota: await quota,
    load1: loadavg()[0] ?? 0,
    runnable: runnable === null ? null : Math.max(0, runnable - 1 - ownThreads),
  };
}
