// One process of the contention bench's background load (bench/contention-load.ts):
//   hog N         N busy-looping threads (worker_threads), steady
//   burst SEED    one thread that is busy (CPU time), then asleep, in turns, for random periods (seeded)
// Each exits when the bench that started it is gone (checked between bursts / every 200 ms), so a
// killed bench leaves no load behind.
import { Worker } from 'node:worker_threads';

const [mode, arg, parentArg] = process.argv.slice(2);
const parent = Number(parentArg);
const alive = () => { try { process.kill(parent, 0); return true; } catch { return false; } };

if (mode === 'hog') {
  for (let i = 0; i < Number(arg); i++) new Worker('for(;;){}', { eval: true });
  setInterval(() => { if (!alive()) process.exit(0); }, 200);
} else if (mode === 'burst') {
  // mulberry32: a small seeded generator, so every run of the bench replays the same periods
  let s = Number(arg) >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const [busyMin, busyMax, sleepMin, sleepMax] = (process.env.BURST_MS ?? '1,7,1,7').split(',').map(Number);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  for (;;) {
    // busy for an amount of CPU time (a compile step needs so much work), not of wall time: preempted, it runs on longer
    const until = cpu() + busyMin + rand() * (busyMax - busyMin);
    while (cpu() < until) { /* busy */ }
    Atomics.wait(cell, 0, 0, sleepMin + rand() * (sleepMax - sleepMin)); // asleep: a timed wait, sub-millisecond precise
    if (!alive()) process.exit(0);
  }
} else {
  console.error(`contention-load-child: unknown mode ${mode}`);
  process.exit(2);
}
