// Child of bench/live.ts: samples a live URL at `fps` for `seconds` with the live() of the tree
// given as argv[2] (its lib/, run through tap's TypeScript loader) and prints, as one JSON line,
// the CPU time and peak RSS of this whole process from the first frame on, and the frames kept.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [tree, url, fps, seconds] = process.argv.slice(2) as [string, string, string, string];
const { live } = (await import(pathToFileURL(join(tree, 'lib', 'video', 'live.ts')).href)) as typeof import('../../lib/video/live.js');
const stream = live(url, { fps: Number(fps), window: 5, timeout: 5, threads: 1 });
let frames = 0, cpu0: NodeJS.CpuUsage | null = null, t0 = 0;
for await (const f of stream) {
  if (!cpu0) { cpu0 = process.cpuUsage(); t0 = performance.now(); }
  frames++;
  void f;
  if (performance.now() - t0 > Number(seconds) * 1000) break;
}
const cpu = process.cpuUsage(cpu0 ?? undefined);
await stream.close();
console.log(JSON.stringify({ frames, cpuS: (cpu.user + cpu.system) / 1e6, wallS: (performance.now() - t0) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
