/**
 * What the thread policy reads of the machine: CPUs (affinity included), the cgroup's CPU quota,
 * the load average, and how many cores other work keeps busy right now (Linux: two readings of
 * /proc/stat's CPU times, 50 ms to 2 s apart, less this process's own CPU time; cpu-sample.ts).
 *
 * Why CPU time and not the runnable count of /proc/loadavg: that count includes work at a lower
 * priority (a `nice -n 19` build, a backup) that gives its core up to vidlm's threads at once, so a
 * machine with a niced compile beside it read as fully loaded and every call ran single-threaded
 * (issue 26: the 0.5B pair's encoder on an "idle" machine, 945 ms instead of 570 ms). /proc/stat
 * keeps the time of niced work apart (its `nice` column), so it is counted only when vidlm itself
 * runs niced.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, getPriority, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { otherBusyCores, parseCpuList, parseProcStat, type CpuReading } from './cpu-sample.js';
import type { SystemView } from './policy.js';

export { otherBusyCores, parseCpuList, parseProcStat } from './cpu-sample.js';

/** cgroup v2 `cpu.max` ("max 100000" or "200000 100000") or v1's quota and period, as cores; null when unlimited. */
export function parseCpuMax(text: string): number | null {
  const [q, p] = text.trim().split(/\s+/);
  const quota = Number(q), period = Number(p ?? 100000);
  if (q === 'max' || !(quota > 0) || !(period > 0)) return null;
  return quota / period;
}

/**
 * A kernel pseudo-file (/proc, /sys), read synchronously (null where it cannot be read): it is
 * generated in memory in microseconds, and an fs.promises call in flight when a worker thread is
 * terminated aborts the whole process on Node 20 (node_file.cc OpenFileHandle's `argc == 5` check,
 * reached when the dying isolate cannot make the request's promise; the chaos test's worker step
 * found it here, where every compute call reads the machine).
 */
function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function readQuota(): number | null {
  const v2 = readProc('/sys/fs/cgroup/cpu.max');
  if (v2 !== null) return parseCpuMax(v2);
  const q = readProc('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'), p = readProc('/sys/fs/cgroup/cpu/cpu.cfs_period_us');
  return q === null || p === null ? null : parseCpuMax(`${q.trim() === '-1' ? 'max' : q.trim()} ${p.trim()}`);
}

/** The CPUs this process may run on (/proc/self/status's Cpus_allowed_list); null: all of them. */
function readAllowed(): Set<number> | null {
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(readProc('/proc/self/status') ?? '');
  return m ? parseCpuList(m[1]!) : null;
}

/**
 * Whether niced work competes with vidlm as an equal: when vidlm runs niced itself, or when its
 * autogroup (Linux's per-session scheduling group) is niced, in which case other sessions' groups
 * weigh as much as its own whatever their tasks' nice. (Across groups, a niced task's own nice does
 * not lower its group's share: the limit of this reading, docs/deploy.md.)
 */
export function nicedCompetes(ownNice: number, autogroup: string | null): boolean {
  if (ownNice > 0) return true;
  const m = autogroup ? /\bnice\s+(-?\d+)/.exec(autogroup) : null;
  return m ? Number(m[1]) > 0 : false;
}

function runsNiced(): boolean {
  let own = 0;
  try { own = getPriority(); } catch { /* no priority to read: not niced */ }
  const group = readProc('/proc/self/autogroup');
  return nicedCompetes(own, group);
}

/** Fixed for the life of the process: read once (a box, since null is a reading: no quota, every CPU). */
let quota: { cores: number | null } | undefined;
let allowed: { cpus: Set<number> | null } | undefined;
/** The last reading, the start of the next window; the last result, reused while fresh. */
let prev: CpuReading | undefined;
let cached: { at: number; busy: number | null } | undefined;
/** A result is reused this long; a window is at least WINDOW_MS (USER_HZ ticks are 10 ms) and at most MAX_AGE_MS. */
const FRESH_MS = 200, WINDOW_MS = 50, MAX_AGE_MS = 2000;

function reading(): CpuReading | null {
  allowed ??= { cpus: readAllowed() };
  const text = readProc('/proc/stat');
  if (text === null) return null;
  const cpu = parseProcStat(text, allowed.cpus);
  if (!cpu) return null;
  const own = process.cpuUsage();
  return { at: performance.now(), cpu, ownUs: own.user + own.system };
}

/** A sample being taken: calls that arrive meanwhile share it instead of each reading and waiting. */
let sampling: Promise<number | null> | undefined;

/** Cores other work kept busy over the last 50 ms to 2 s (a reading that old is the window's start; else a 50 ms wait). */
function busyNow(): Promise<number | null> {
  if (cached && performance.now() - cached.at < FRESH_MS) return Promise.resolve(cached.busy);
  sampling ??= sample().finally(() => { sampling = undefined; });
  return sampling;
}

async function sample(): Promise<number | null> {
  const now = performance.now();
  let a = prev;
  if (!a || now - a.at > MAX_AGE_MS) {
    a = reading() ?? undefined;
    if (!a) return null;
    await sleep(WINDOW_MS);
  } else if (now - a.at < WINDOW_MS) {
    await sleep(WINDOW_MS - (now - a.at));
  }
  const b = reading();
  if (!b) return null;
  prev = b;
  const busy = otherBusyCores(a, b, runsNiced());
  cached = { at: b.at, busy };
  return busy;
}

/**
 * The machine as the policy takes it. `ownThreads`: vidlm's compute threads running now, which
 * the load average (the fallback where there is no /proc/stat) includes.
 */
export async function probeSystem(_ownThreads: number): Promise<SystemView> {
  quota ??= { cores: readQuota() };
  const busy = await busyNow();
  return { cores: availableParallelism(), quota: quota.cores, load1: loadavg()[0] ?? 0, busy };
}
