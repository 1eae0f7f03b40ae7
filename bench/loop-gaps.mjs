// Where `vidlm serve`'s event loop loses time (issue 26, item 4): preloaded into the server with
//   NODE_OPTIONS="--import ./bench/loop-gaps.mjs" npm run bench -- contention-serve --settings policy --runs 1
// it records every event-loop gap over 20 ms (a 5 ms timer firing late) with what the main thread
// did meanwhile, from Linux's /proc/self/task/<pid>/schedstat: time it ran (work on the loop) and
// time it waited for a CPU (the scheduler). Other processes (the bench, the hog) are left alone.
// Writes .cache/loop-gaps-<pid>.json at exit and prints a summary line to stderr.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

if (process.argv.some((a) => a.endsWith('cli.js')) && process.argv.includes('serve')) {
  const stat = () => {
    const [run, wait] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { run, wait };
  };
  const t0 = performance.now();
  let last = t0, prev = stat();
  const gaps = [];
  setInterval(() => {
    const now = performance.now(), s = stat();
    const late = now - last - 5;
    if (late > 20) gaps.push({ atMs: Math.round(now - t0), lateMs: +late.toFixed(1), ranMs: +((s.run - prev.run) / 1e6).toFixed(1), waitedMs: +((s.wait - prev.wait) / 1e6).toFixed(1) });
    last = now;
    prev = s;
  }, 5).unref();
  process.on('exit', () => {
    const sum = (k) => gaps.reduce((n, g) => n + g[k], 0);
    mkdirSync('.cache', { recursive: true });
    writeFileSync(`.cache/loop-gaps-${process.pid}.json`, JSON.stringify(gaps));
    process.stderr.write(`loop-gaps: ${gaps.length} gaps over 20 ms, ${(sum('lateMs') / 1000).toFixed(1)} s late; main thread ran ${(sum('ranMs') / 1000).toFixed(2)} s, waited for a CPU ${(sum('waitedMs') / 1000).toFixed(2)} s; longest run in one gap ${Math.max(0, ...gaps.map((g) => g.ranMs))} ms\n`);
  });
}
