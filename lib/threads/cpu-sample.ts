/**
 * Other work's CPU use from two readings of Linux's /proc/stat, pure so that a test can give it
 * any machine. /proc/stat counts, per CPU, the time spent in user mode (nice 0 and below), in user
 * mode at nice > 0 (`nice`), in the kernel, idle, and so on; the busy share of the window times
 * the CPUs is the cores kept busy, from which this process's own CPU time is taken off.
 */

/** The CPU times of the CPUs a process may run on, in ticks (USER_HZ). */
export interface CpuTimes {
  /** user (nice ≤ 0) + system + irq + softirq + steal */
  busy: number;
  /** user time at nice > 0: work that yields its core to a nice-0 thread */
  nice: number;
  /** every column: busy + nice + idle + iowait */
  total: number;
  /** CPUs summed */
  cpus: number;
}

export interface CpuReading {
  /** performance.now() of the reading */
  at: number;
  cpu: CpuTimes;
  /** this process's CPU time so far (user + system of all its threads), µs */
  ownUs: number;
}

/** A cpuset list ("0-3,8,10-11") as CPU numbers; null when it does not parse. */
export function parseCpuList(text: string): Set<number> | null {
  const out = new Set<number>();
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return null;
    for (let c = Number(m[1]), end = Number(m[2] ?? m[1]); c <= end; c++) out.add(c);
  }
  return out.size ? out : null;
}

/** The summed times of the `cpuN` lines of /proc/stat for the CPUs in `allowed` (null: every CPU); null when it has none. */
export function parseProcStat(text: string, allowed: Set<number> | null): CpuTimes | null {
  const t: CpuTimes = { busy: 0, nice: 0, total: 0, cpus: 0 };
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m || (allowed && !allowed.has(Number(m[1])))) continue;
    // user nice system idle iowait irq softirq steal [guest guest_nice: already in user and nice]
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = m[2]!.trim().split(/\s+/).map(Number);
    t.busy += user + system + irq + softirq + steal;
    t.nice += nice;
    t.total += user + nice + system + idle + iowait + irq + softirq + steal;
    t.cpus++;
  }
  return t.cpus > 0 && Number.isFinite(t.total) ? t : null;
}

/**
 * Cores that work other than this process kept busy between two readings: the busy share of the
 * CPUs' time times the CPUs, less this process's own use over the same window (its CPU time over
 * the wall time). Niced work counts only when this process runs niced itself (then the niced work
 * competes with it as an equal; otherwise it gives its core up). Null when the window is empty.
 */
export function otherBusyCores(a: CpuReading, b: CpuReading, niced: boolean): number | null {
  const total = b.cpu.total - a.cpu.total, wall = b.at - a.at;
  if (!(total > 0) || !(wall > 0) || b.cpu.cpus !== a.cpu.cpus) return null;
  const busy = b.cpu.busy - a.cpu.busy + (niced ? b.cpu.nice - a.cpu.nice : 0);
  const own = (b.ownUs - a.ownUs) / 1000 / wall;
  return Math.max(0, (busy / total) * b.cpu.cpus - own);
}
