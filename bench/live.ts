/**
 * Live sampling benchmark (follow-up of issue 31): what sampling a 30 fps 720p live stream at
 * 1 fps costs the vidlm side. A loopback MPEG-TS stream over UDP (the ffmpeg program sending a
 * pre-encoded H.264 clip with -re) is read by a child process with live() from one or more
 * trees (this one and, with --tree, others: e.g. an export of an older commit) for --seconds
 * from its first frame; its CPU time (process.cpuUsage) and peak RSS (whole child) are compared
 * against the ffmpeg program doing the same work on the same stream in the same run
 * (-vf fps=1, RGB24 out, -f null; whole process, /usr/bin/time). Runs alternate tree by tree and
 * the reference; medians are printed.
 *
 * The table goes to docs/watch.md (section `live`) with --write-docs; rows of other trees
 * (--tree) are printed, not written.
 *
 * Run: flock /tmp/vidlm-bench.lock npm run bench -- live [--runs 5] [--seconds 20] [--tree name=/path/to/tree ...] [--write-docs]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freeUdpPort } from '../test/fixtures/ports.js';
import { benchRun, median, publish } from './doc-table.js';

const bench = benchRun('live');
const { values } = parseArgs({ options: { runs: { type: 'string' }, seconds: { type: 'string' }, tree: { type: 'string', multiple: true }, 'write-docs': { type: 'boolean' }, markdown: { type: 'boolean' } } });
const RUNS = Number(values.runs ?? 5);
const SECONDS = Number(values.seconds ?? 20);
const root = process.cwd();
const trees: [string, string][] = [['this tree', root], ...(values.tree ?? []).map((s) => s.split('=', 2) as [string, string])];

const dir = join(root, '.cache', 'media');
mkdirSync(dir, { recursive: true });
const clip = join(dir, 'bench-live-720p30.ts');
if (!existsSync(clip)) {
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${SECONDS + 30}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-pix_fmt', 'yuv420p', '-f', 'mpegts', clip]);
}

interface Sample { frames: number; cpuS: number; wallS: number; maxRssMiB: number }

/** Runs `cmd` reading udp://127.0.0.1:P while the ffmpeg program sends the clip there in real time. */
async function withStream(run: (url: string) => Promise<Sample>): Promise<Sample> {
  const port = await freeUdpPort();
  const url = `udp://127.0.0.1:${port}`;
  const result = run(url);
  await new Promise((r) => setTimeout(r, 500));
  const sender = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-i', clip, '-c', 'copy', '-f', 'mpegts', `${url}?pkt_size=1316`], { stdio: 'ignore' });
  try { return await result; } finally { sender.kill('SIGKILL'); }
}

function child(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } });
    let out = '', err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('close', (code) => code === 0 ? resolve(out + err) : reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`)));
  });
}

const vidlm = (tree: string) => withStream(async (url) => {
  const out = await child(process.execPath, ['--import', '@tapjs/typescript/import', join(root, 'bench', 'live', 'consume.mts'), tree, url, '1', String(SECONDS)]);
  return JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as Sample;
});

// the same work by the ffmpeg program: decode every frame, keep one a second as RGB24
const reference = () => withStream(async (url) => {
  const out = await child('/usr/bin/time', ['-f', 'RUSAGE %U %S %M %e', 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-threads', '1',
    '-i', url, '-t', String(SECONDS), '-vf', 'fps=1', '-pix_fmt', 'rgb24', '-f', 'null', '-']);
  const [u, s, m, e] = out.split('RUSAGE ')[1]!.trim().split(/\s+/).map(Number) as [number, number, number, number];
  return { frames: SECONDS, cpuS: u + s, wallS: e, maxRssMiB: m / 1024 };
});

const samples = new Map<string, Sample[]>([['ffmpeg program', []], ...trees.map(([n]) => [n, []] as [string, Sample[]])]);
for (let r = 0; r < RUNS; r++) {
  for (const [name, tree] of trees) {
    const s = await vidlm(tree);
    samples.get(name)!.push(s);
    console.log(`  run ${r + 1} ${name}: ${s.frames} frames, ${s.cpuS.toFixed(2)} s CPU, ${s.maxRssMiB.toFixed(0)} MiB peak RSS`);
  }
  const s = await reference();
  samples.get('ffmpeg program')!.push(s);
  console.log(`  run ${r + 1} ffmpeg program: ${s.cpuS.toFixed(2)} s CPU, ${s.maxRssMiB.toFixed(0)} MiB peak RSS`);
}

const refRuns = samples.get('ffmpeg program')!.map((s) => s.cpuS);
const ref = median(refRuns);
const f2 = (x: number) => x.toFixed(2);
const f0 = (x: number) => x.toFixed(0);
const range = (xs: number[], f: (x: number) => string) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
const row = (name: string, xs: Sample[]) => {
  const cpu = xs.map((s) => s.cpuS);
  // the ratio of medians, and the range of the per-run ratios (run r of this reader / run r of the ffmpeg program)
  const perRun = cpu.map((c, r) => c / refRuns[r]!);
  return `| ${name} | ${median(xs.map((s) => s.frames))} | ${range(cpu, f2)} | ${f2(median(cpu) / ref)} (${f2(Math.min(...perRun))}–${f2(Math.max(...perRun))}) | ${range(xs.map((s) => s.maxRssMiB), f0)} |`;
};
const head = [
  `30 fps 1280x720 H.264 over UDP (loopback), sampled at 1 fps for ${SECONDS} s, decoder threads 1.`,
  '',
  '| reader | frames kept | CPU s | CPU / ffmpeg program | peak RSS MiB |',
  '| --- | ---: | ---: | ---: | ---: |',
];
const docRows = [row('ffmpeg program', samples.get('ffmpeg program')!), row('vidlm live() (sampling in the addon)', samples.get('this tree')!)];
const otherRows = trees.slice(1).map(([name]) => row(name, samples.get(name)!));
if (otherRows.length) console.log(['', 'other trees (not written to the docs):', ...head.slice(2), ...otherRows].join('\n'));
publish(bench, {
  file: 'docs/watch.md', section: 'live', body: [...head, ...docRows].join('\n'), runs: RUNS,
  statistic: 'alternating runs (vidlm, then the ffmpeg program), each cell the median with min–max in brackets; the ratio is the ratio of medians with the range of the per-run ratios; vidlm CPU counted from the first frame (the first second\'s frames arrive at once, hence more frames kept than seconds), peak RSS of the whole child (node + TypeScript loader); the ffmpeg program whole process (`-threads 1 -vf fps=1 -pix_fmt rgb24 -f null`)',
});
