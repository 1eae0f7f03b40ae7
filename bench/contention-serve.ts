/**
 * `vidlm serve --parallel 2` beside a CPU hog (issue 26, item 4): 8 requests at once (a question
 * about a 4 s clip, 64-token answers, streamed), per-request latency p50 / p95 with today's
 * default (--threads = all cores, each slot running every core) against the thread policy (the
 * default now: the slots share the free cores), each server a fresh process, taking turns; a
 * health checker in its own process polls GET /health every 10 ms meanwhile (its p99 must stay
 * under 50 ms). The hog is a child process busy-looping on every core at normal priority.
 *
 * Run: npm run build:ts && npm run bench -- contention-serve [--runs 3] [--no-hog] [--settings today,policy] [--write-docs]
 *      (--write-docs replaces the section bench:contention-serve of docs/deploy.md, through bench/doc-table.ts)
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { freeTcpPort } from '../test/fixtures/ports.js';
import { benchRun, median, publish } from './doc-table.js';
import { benchClip, waitReady } from './server-process.js';

const bench = benchRun('contention-serve');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, 'no-hog': { type: 'boolean', default: false }, settings: { type: 'string', default: 'today,policy' }, 'write-docs': { type: 'boolean', default: false } } });
const SETTINGS = values.settings!.split(',').filter((x): x is 'today' | 'policy' => x === 'today' || x === 'policy');
const RUNS = Number(values.runs);
const root = process.cwd();
const cores = availableParallelism();
const { dir, clip: CLIP } = benchClip(root, 'serve-load-4s.mp4', 4, '640x360');
const m = await tinyModels();
const loadAtStart = loadavg();

const startHog = (): ChildProcess => spawn(process.execPath, ['-e', `const { Worker } = require('node:worker_threads'); for (let i = 0; i < ${cores}; i++) new Worker('for(;;){}', { eval: true });`], { stdio: 'ignore' });

interface Run { latencies: number[]; health: number[]; ok: number }
async function run(setting: 'today' | 'policy'): Promise<Run> {
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  const threads = setting === 'today' ? ['--threads', String(cores)] : [];
  const child = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'serve', '--model', m.model, '--mmproj', m.mmproj!, '--port', String(port), '--media-path', dir, '--ctx-size', '2048', '--parallel', '2', ...threads], { stdio: 'ignore' });
  const hog = values['no-hog'] ? null : startHog();
  try {
    await waitReady(url, child);
    const probe = fork(join(root, 'test', 'server', 'health-probe.mjs'), [url]);
    await new Promise((r) => probe.once('message', r));
    const probed = new Promise<{ ms: number }[]>((r) => probe.once('message', r as never));
    const results = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
      const t0 = performance.now();
      const r = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'video_url', video_url: { url: CLIP } }, { type: 'text', text: `Question ${i}: what happens?` }] }], max_tokens: 64, temperature: 0, stream: true }),
      });
      await r.text();
      return { ms: performance.now() - t0, status: r.status };
    }));
    probe.send('stop');
    const health = (await probed).map((p) => p.ms);
    return { latencies: results.map((r) => r.ms), health, ok: results.filter((r) => r.status === 200).length };
  } finally {
    if (hog) { hog.kill('SIGKILL'); await new Promise((r) => hog.once('exit', r)); }
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]!; };
const runs: Record<string, Run[]> = { today: [], policy: [] };
console.error(`contention-serve: ${cores} cores, load at start ${loadAtStart.map((x) => x.toFixed(2)).join(' ')}, ${values['no-hog'] ? 'no hog' : 'CPU hog on all cores'}`);
for (let r = 0; r < RUNS; r++) {
  for (const s of r % 2 ? [...SETTINGS].reverse() : SETTINGS) {
    const x = await run(s);
    runs[s]!.push(x);
    console.error(`  ${s} run ${r + 1}: request p50 ${(pct(x.latencies, 0.5) / 1000).toFixed(2)} s, p95 ${(pct(x.latencies, 0.95) / 1000).toFixed(2)} s; /health p99 ${pct(x.health, 0.99).toFixed(1)} ms over ${x.health.length}; ${x.ok}/8 ok`);
  }
}
const machine = values['no-hog'] ? 'no hog' : 'beside a CPU hog on all cores';
const lines = [`\`vidlm serve --parallel 2\` on ${cores} cores ${machine}, 8 requests at once (a 4 s clip, 64-token answers, streamed), each server a fresh process, settings taking turns; a health checker polls GET /health every 10 ms meanwhile.`, ''];
lines.push('| threads | request p50 | request p95 | /health p99 | /health probes | answered |');
lines.push('| --- | --- | --- | --- | --- | --- |');
const cell = (xs: number[], f: (x: number) => string) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`, ms = (x: number) => `${x.toFixed(1)} ms`;
for (const name of SETTINGS) {
  const rs = runs[name]!;
  lines.push(`| ${name === 'today' ? `\`--threads ${cores}\` (today's default: each slot every core)` : 'policy (default: the slots share the free cores)'} | ${cell(rs.map((r) => pct(r.latencies, 0.5)), s)} | ${cell(rs.map((r) => pct(r.latencies, 0.95)), s)} | ${cell(rs.map((r) => pct(r.health, 0.99)), ms)} | ${rs.map((r) => r.health.length).join(', ')} | ${rs.map((r) => r.ok).join(', ')} of 8 |`);
}
const p50 = (n: string) => median(runs[n]!.map((r) => pct(r.latencies, 0.5))), p95 = (n: string) => median(runs[n]!.map((r) => pct(r.latencies, 0.95)));
lines.push('');
if (runs.today!.length && runs.policy!.length) lines.push(`- policy vs today's default: request p50 ${(p50('today') / p50('policy')).toFixed(2)}× faster, p95 ${(p95('today') / p95('policy')).toFixed(2)}× faster`);
for (const name of SETTINGS) {
  const h = runs[name]!.map((r) => pct(r.health, 0.99));
  lines.push(`- ${name === 'today' ? "today's default" : 'policy'}: /health p99 under 50 ms in ${h.filter((x) => x < 50).length} of ${h.length} runs`);
}
publish(bench, {
  file: 'docs/deploy.md', section: 'contention-serve', body: lines.join('\n'), runs: RUNS,
  statistic: "each cell the median over the runs of each run's figure (p50 and p95 over the 8 requests, p99 over the /health probes), min–max in brackets",
});
