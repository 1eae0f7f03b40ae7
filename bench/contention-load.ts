/**
 * The background load of the contention bench (issue 26): what a busy machine looks like, each a
 * CPU hog on all cores on average, started before a row's runs and stopped after them.
 *
 *   idle           nothing of ours (the machine as it is; the footer gives the load at the start)
 *   hog            one child process busy-looping on every core, steady, at normal priority, in the
 *                  bench's own session: same scheduler autogroup, so its threads and vidlm's weigh
 *                  the same and a spinning ggml worker keeps its share of a core
 *   burst          2 × cores child processes, each busy then asleep in turns for random periods of
 *                  1 to 7 ms (seeded: every run replays the same periods), on average all cores busy:
 *                  a build farm, other sessions' short tasks; each wake-up preempts a running thread
 *                  at a random moment, as the load of the issue's own measurement (load ~5) did
 *   other-session  the steady hog started with setsid: an autogroup of its own, as another app on the
 *                  desktop or another service on the box is; groups share the CPU by group, not thread
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const CONDITIONS = ['idle', 'hog', 'burst', 'other-session'] as const;
export type Condition = (typeof CONDITIONS)[number];

/** What a table's "machine" column says for a condition. */
export const conditionLabel: Record<Condition, string> = {
  idle: 'no hog',
  hog: 'CPU hog on all cores',
  burst: 'bursts on all cores',
  'other-session': 'CPU hog in another session',
};

/** The seed of the burst processes: process i uses SEED + i. */
export const BURST_SEED = 0x5eed;

export interface Load { stop(): Promise<void> }

/** Starts a condition's load (none for idle) and waits until it runs. */
export async function startLoad(cond: Condition, cores: number, root = process.cwd()): Promise<Load> {
  const script = join(root, 'bench', 'contention-load-child.mjs');
  const start = (args: string[], detached: boolean) => spawn(process.execPath, [script, ...args, String(process.pid)], { stdio: 'ignore', detached });
  const kids: ChildProcess[] =
    cond === 'hog' ? [start(['hog', String(cores)], false)]
    : cond === 'other-session' ? [start(['hog', String(cores)], true)] // detached: setsid(), a new session and autogroup
    : cond === 'burst' ? Array.from({ length: 2 * cores }, (_, i) => start(['burst', String(BURST_SEED + i)], false))
    : [];
  const kill = () => { for (const k of kids) k.kill('SIGKILL'); };
  process.once('exit', kill);
  if (kids.length) await new Promise((r) => setTimeout(r, 500)); // the loops are running
  return {
    async stop() {
      process.removeListener('exit', kill);
      await Promise.all(kids.map((k) => (k.exitCode !== null || k.signalCode !== null ? null : new Promise((r) => { k.once('exit', r); k.kill('SIGKILL'); }))));
    },
  };
}
