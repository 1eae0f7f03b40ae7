/**
 * /health under load: `vidlm serve` against llama.cpp's own llama-server (built from the vendored
 * tree with its video path, bench/reference-build.ts), each in its own process on the same
 * machine and tiny model pair, 2 slots each. 64 clients stream the same question about a 4 s clip
 * at once (max_tokens 16) while a health checker in a third process polls GET /health every
 * 10 ms (test/server/health-probe.mjs, the load test's probe). Equal work: both take 8 frames of
 * the clip (vidlm's concat default; llama-server --video-fps 2 on 4 s) and admit all 64 requests
 * (llama-server's queue has no bound; vidlm gets --queue 62 behind its 2 slots). --queue N
 * measures vidlm refusing the rest with 503 instead, which is then not the same work.
 *
 * Printed for each: /health p50, p99 and max over the probes taken while the clients ran, the
 * requests completed and refused, and the wall time of the 64. Ratios are vidlm / llama-server.
 * The bound is vidlm's p99 < 50 ms.
 *
 * Run (outside CI): npm run build:ts && npm run bench -- serve-load [--repeat 3] [--queue 62]
 */
import { fork, spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { freeTcpPort } from '../test/fixtures/ports.js';
import { referenceServer } from './reference-build.js';
import { benchClip, waitReady } from './server-process.js';

const { values } = parseArgs({ options: { repeat: { type: 'string' }, queue: { type: 'string' } } });
const REPEAT = Number(values.repeat ?? 3);
const QUEUE = String(Number(values.queue ?? 62));
const root = process.cwd();
const { dir, clip: CLIP } = benchClip(root, 'serve-load-4s.mp4', 4, '640x360');
const m = await tinyModels();
const llamaServer = referenceServer(root);


interface Run { p50: number; p99: number; max: number; probes: number; done: number; refused: number; wallMs: number }

async function run(name: 'vidlm' | 'llama-server'): Promise<Run> {
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  const child = name === 'vidlm'
    ? spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'serve', '--model', m.model, '--mmproj', m.mmproj!, '--port', String(port), '--media-path', dir, '--threads', '1', '--ctx-size', '2048', '--parallel', '2', '--queue', QUEUE], { stdio: 'ignore' })
    : spawn(llamaServer, ['-m', m.model, '--mmproj', m.mmproj!, '--port', String(port), '--host', '127.0.0.1', '--media-path', dir, '-t', '1', '-c', '4096', '-np', '2', '--video-fps', '2', '--no-webui'], { stdio: 'ignore' });
  try {
    await waitReady(url, child);
    const probe = fork(join(root, 'test', 'server', 'health-probe.mjs'), [url]);
    await new Promise((r) => probe.once('message', r));
    const probed = new Promise<{ ms: number }[]>((r) => probe.once('message', r as never));
    const video = name === 'vidlm'
      ? { type: 'video_url', video_url: { url: CLIP } }
      : { type: 'input_video', input_video: { url: `file://${CLIP}` } };
    const t0 = performance.now();
    const statuses = await Promise.all(Array.from({ length: 64 }, async (_, i) => {
      const r = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: [video, { type: 'text', text: `Question ${i}: what happens?` }] }], max_tokens: 16, stream: true }),
      });
      await r.text();
      return r.status;
    }));
    const wallMs = performance.now() - t0;
    probe.send('stop');
    const lat = (await probed).map((p) => p.ms).sort((a, b) => a - b);
    return {
      p50: lat[Math.floor(lat.length / 2)]!, p99: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))]!, max: lat[lat.length - 1]!, probes: lat.length,
      done: statuses.filter((s) => s === 200).length, refused: statuses.filter((s) => s === 503).length, wallMs,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runs: Record<string, Run[]> = { vidlm: [], 'llama-server': [] };
for (let r = 0; r < REPEAT; r++) {
  for (const name of (r % 2 ? ['vidlm', 'llama-server'] : ['llama-server', 'vidlm']) as const) {
    const x = await run(name);
    runs[name]!.push(x);
    console.error(`${name} run ${r + 1}: /health p50 ${x.p50.toFixed(1)} ms, p99 ${x.p99.toFixed(1)} ms, max ${x.max.toFixed(1)} ms over ${x.probes} probes; ${x.done} done, ${x.refused} refused, ${x.wallMs.toFixed(0)} ms`);
  }
}
const row = (name: string) => {
  const rs = runs[name]!;
  return { p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), max: median(rs.map((r) => r.max)), probes: median(rs.map((r) => r.probes)), done: median(rs.map((r) => r.done)), refused: median(rs.map((r) => r.refused)), wall: median(rs.map((r) => r.wallMs)) };
};
const v = row('vidlm'), l = row('llama-server');
console.log(`\n/health while 64 clients stream at once (${CLIP}, tiny model pair, 2 slots, max_tokens 16, median of ${REPEAT})\n`);
console.log('| server | /health p50 (ms) | p99 (ms) | max (ms) | probes | completed | 503 | wall time of the 64 (ms) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [name, x] of [['llama-server', l], ['vidlm serve', v]] as const) {
  console.log(`| ${name} | ${x.p50.toFixed(1)} | ${x.p99.toFixed(1)} | ${x.max.toFixed(1)} | ${x.probes} | ${x.done} | ${x.refused} | ${x.wall.toFixed(0)} |`);
}
console.log(`| ratio vidlm / llama-server | ${(v.p50 / l.p50).toFixed(2)} | ${(v.p99 / l.p99).toFixed(2)} | ${(v.max / l.max).toFixed(2)} | | | | |`);
console.log(`\nvidlm p99 ${v.p99.toFixed(1)} ms: ${v.p99 < 50 ? 'under' : 'OVER'} the 50 ms bound`);
