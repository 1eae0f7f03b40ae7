/**
 * Threads on a busy machine (issue 26): the same question asked by a fresh process (load, decode,
 * encode, prefill, generate; timed spawn to exit) on an idle machine and beside background load
 * that keeps every core busy (bench/contention-load.ts: a steady hog in the bench's session, bursts
 * of 2 × cores processes, the steady hog in a session of its own), with
 *   today     threads = all cores, ggml's default waiting (what loadModel did before the policy)
 *   t1        threads: 1
 *   poll0     threads = all cores, poll 0 (a persistent pool whose workers sleep between graphs: the waiting mode alone)
 *   policy    the default: free cores from the thread policy (lib/threads), on a poll-0 pool
 *   serial    the policy with decoding then encoding (VIDLM_OVERLAP=0: no overlap of the two, lib/pipeline/overlap.ts)
 *   prev      the policy as another checkout builds it (--prev DIR: that checkout's dist/, e.g. the commit
 *             before a policy change), so that a change is measured against what it replaces in the same runs
 * taking turns run by run (every setting of a row, then again), medians with min–max. Rows: the
 * tiny pair (image, 16-frame video, 64-token answer) and a pair with Qwen2.5-0.5B's LLM shape
 * (16-frame PLLaVA question). The machine is what it is: "idle" means no hog of ours; the load
 * average at the start is printed in the footer.
 *
 * Run: npm run build:ts && npm run bench -- contention [--runs 3] [--pairs tiny,05b] [--settings today,t1,poll0,serial,policy]
 *      [--conditions idle,hog,burst,other-session] [--only TEXT] [--prev DIR] [--write-docs]   (--write-docs replaces, for each
 *      condition run, the section of docs/deploy.md marked bench:contention-<pairs>-<condition>, e.g.
 *      bench:contention-tiny-burst, through bench/doc-table.ts's publish())
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tinyModels } from '../test/fixtures/tiny-models.js';
import { benchPair, LLM_05B } from './models.js';
import { benchClip } from './server-process.js';
import { benchRun, publish } from './doc-table.js';
import { CONDITIONS, conditionLabel, startLoad, type Condition } from './contention-load.js';

const run0 = benchRun('contention'); // the load average before the bench adds its own

const { values: v } = parseArgs({ options: {
  runs: { type: 'string', default: '3' }, pairs: { type: 'string', default: 'tiny,05b' },
  settings: { type: 'string', default: 'today,t1,poll0,serial,policy' }, conditions: { type: 'string', default: 'idle,hog,burst,other-session' },
  'write-docs': { type: 'boolean', default: false }, only: { type: 'string' }, prev: { type: 'string' },
} });
const root = process.cwd();
const RUNS = Number(v.runs);
const cores = availableParallelism();

const SETTINGS: Record<string, { threads?: number | 'auto'; poll?: number; env?: Record<string, string> }> = {
  today: { threads: cores }, t1: { threads: 1 }, poll0: { threads: cores, poll: 0 }, policy: {}, prev: {},
  // the policy without decoding beside encoding (lib/pipeline/overlap.ts), to measure the overlap in the same runs
  serial: { env: { VIDLM_OVERLAP: '0' } },
};
const settings = v.settings!.split(',').filter((s) => s in SETTINGS && (s !== 'prev' || v.prev));
if (v.prev && !settings.includes('prev')) settings.push('prev');
const conditions = v.conditions!.split(',') as Condition[];
for (const c of conditions) if (!CONDITIONS.includes(c)) throw new Error(`--conditions: ${c} is none of ${CONDITIONS.join(', ')}`);

// inputs: a 60 s 720p H.264 clip (the issue measured a 10-minute one; a shorter one keeps the bench's setup short on a busy machine), a phone-sized JPEG
const clip = join(root, '.cache', 'media', benchClip(root, 'contention-60s-720p.mp4', 60, '1280x720').clip);
const photo = join(root, '.cache', 'media', 'contention-photo.jpg');
if (!existsSync(photo)) execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=4032x3024', '-frames:v', '1', '-q:v', '3', photo]);

interface Row { pair: string; question: string; model: string; mmproj: string; input: string; strategy: string; frames?: number; maxTokens: number; contextSize: number }
const rows: Row[] = [];
const wanted = v.pairs!.split(',');
if (wanted.includes('tiny')) {
  const t = await tinyModels();
  const base = { pair: 'tiny', model: t.model, mmproj: t.mmproj, contextSize: 2048 };
  rows.push({ ...base, question: 'image, 16 tokens', input: photo, strategy: 'concat', maxTokens: 16 });
  rows.push({ ...base, question: '16-frame video (concat), 16 tokens', input: clip, strategy: 'concat', frames: 16, maxTokens: 16 });
  rows.push({ ...base, question: 'image, 64-token answer', input: photo, strategy: 'concat', maxTokens: 64 });
}
if (wanted.includes('05b')) {
  const p = await benchPair(root, 'clip224', 'llava', { ...LLM_05B, name: '05b' });
  rows.push({ pair: '0.5B-shape', question: '16-frame video (pllava), 16 tokens', model: p.model, mmproj: p.mmproj, input: clip, strategy: 'pllava', frames: 16, maxTokens: 16, contextSize: 4096 });
}
const selected = v.only ? rows.filter((r) => r.question.includes(v.only!)) : rows;


interface Sample { total: number; decode: number; encode: number; prefill: number; generate: number; tps: number; generated: number; grants: number[]; cpu: number }
function runOnce(row: Row, setting: string): Promise<Sample> {
  const { env: _env, ...threads } = SETTINGS[setting]!;
  const cfg = { ...row, ...threads, question: 'What happens in this video?' };
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const env = { ...process.env, ...SETTINGS[setting]!.env };
    const child = spawn(process.execPath, [join(setting === 'prev' ? v.prev! : root, 'bench', 'contention-child.mjs'), JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '', err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      const total = performance.now() - t0;
      if (code !== 0) return reject(new Error(`${row.pair} ${row.question} ${setting}: exit ${code}\n${err}`));
      const r = JSON.parse(out.trim().split('\n').pop()!);
      const g = r.timings;
      resolve({ total, decode: g.decodeMs, encode: g.encodeMs, prefill: g.prefillMs, generate: g.generateMs, generated: r.tokens.generated,
        tps: r.tokens.generated > 0 ? (r.tokens.generated * 1000) / g.generateMs : 0, grants: r.grants, cpu: r.cpuMs ?? NaN });
    });
  });
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const cell = (xs: number[], f = fmt) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

const results = new Map<string, Sample[]>();
const key = (r: Row, c: string, s: string) => `${r.pair}|${r.question}|${c}|${s}`;
console.error(`contention: ${cores} cores, load at start ${run0.load.map((x) => x.toFixed(2)).join(' ')}, ${RUNS} runs, settings ${settings.join(', ')}, conditions ${conditions.join(', ')}`);
for (const row of selected) {
  for (let run = 0; run < RUNS; run++) {
    for (const cond of conditions) {
      const load = await startLoad(cond, cores, root);
      try {
        for (const s of run % 2 ? [...settings].reverse() : settings) {
          const x = await runOnce(row, s);
          const k = key(row, cond, s);
          results.set(k, [...(results.get(k) ?? []), x]);
          console.error(`  ${row.pair} | ${row.question} | ${cond} | ${s} | run ${run + 1}: ${fmt(x.total)} (decode ${fmt(x.decode)}, encode ${fmt(x.encode)}, prefill ${fmt(x.prefill)}, generate ${fmt(x.generate)}, ${x.generated} tok) threads ${x.grants.join(',') || 'fixed'}`);
        }
      } finally {
        await load.stop();
      }
    }
  }
}

let prevCommit = 'another checkout';
// the checkout's commit, or a COMMIT file naming it (a tree exported with git archive)
try { if (v.prev) prevCommit = existsSync(join(v.prev, 'COMMIT')) ? readFileSync(join(v.prev, 'COMMIT'), 'utf8').trim() : execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: v.prev, encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
const STATISTIC = 'each cell the median of the whole-process runs (spawn to exit for total; stages as ask() reports them) with min–max, settings taking turns run by run';

/** One condition's table and its verdicts: what one docs section holds above its footer. */
function section(cond: Condition): string {
  const lines: string[] = [];
  lines.push('| pair | question | machine | threads | total | decode | encode | prefill | generate | tokens/s | policy threads | total vs today | total vs best fixed |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const verdicts: string[] = [];
  for (const row of selected) {
    const med = (s: string) => median((results.get(key(row, cond, s)) ?? []).map((x) => x.total));
    const fixed = settings.filter((s) => s !== 'policy' && s !== 'prev' && s !== 'serial' && results.has(key(row, cond, s)));
    const best = Math.min(...fixed.map(med));
    for (const s of settings) {
      const xs = results.get(key(row, cond, s));
      if (!xs) continue;
      const label = s === 'today' ? `${cores} (today's default)` : s === 't1' ? '1' : s === 'poll0' ? `${cores}, poll 0` : s === 'prev' ? `policy before (${prevCommit})`
        : s === 'serial' ? 'policy, decoding then encoding' : 'policy (default)';
      const grants = s === 'policy' || s === 'prev' || s === 'serial' ? [...new Set(xs.flatMap((x) => x.grants))].sort().join(', ') : '';
      const vsToday = results.has(key(row, cond, 'today')) ? `${(med(s) / med('today')).toFixed(2)}×` : '';
      lines.push(`| ${row.pair} | ${row.question} | ${conditionLabel[cond]} | ${label} | ${cell(xs.map((x) => x.total))} | ${cell(xs.map((x) => x.decode))} | ${cell(xs.map((x) => x.encode))} | ${cell(xs.map((x) => x.prefill))} | ${cell(xs.map((x) => x.generate))} | ${median(xs.map((x) => x.tps)).toFixed(1)} (${median(xs.map((x) => x.generated))} tok) | ${grants} | ${vsToday} | ${Number.isFinite(best) ? `${(med(s) / best).toFixed(2)}×` : ''} |`);
    }
    const px = results.get(key(row, cond, 'policy'));
    if (px && row.frames && results.has(key(row, cond, 'serial'))) {
      // decoding beside encoding (issue 26, item 3) measured: the policy with it against the policy without it, same runs
      const r = med('policy') / med('serial');
      verdicts.push(`- ${row.pair}, ${row.question}, ${cond}: decoding beside encoding ${fmt(med('policy'))} vs decoding then encoding ${fmt(med('serial'))} = ${r.toFixed(2)}× (${r <= 1 ? `${((1 - r) * 100).toFixed(1)} % faster` : `${((r - 1) * 100).toFixed(1)} % slower`})`);
    } else if (px && row.frames) {
      // what overlapping decode and encode (issue 26, item 3) could save at most: the shorter of the two stages
      const bound = median(px.map((x) => Math.min(x.decode, x.encode)));
      verdicts.push(`- ${row.pair}, ${row.question}, ${cond}: overlapping decode and encode could save at most ${fmt(bound)} (${((bound / med('policy')) * 100).toFixed(1)} % of the policy's total; decode ${fmt(median(px.map((x) => x.decode)))}, encode ${fmt(median(px.map((x) => x.encode)))})`);
    }
    if (px && row.frames && px.every((x) => Number.isFinite(x.cpu))) {
      // what bounds a video row under load: the work (the process's CPU time, every thread) against the CPU share it got
      const cpu = median(px.map((x) => x.cpu));
      verdicts.push(`- ${row.pair}, ${row.question}, ${cond}: the policy's process used ${fmt(cpu)} of CPU time (every thread) in ${fmt(med('policy'))}, i.e. ${(cpu / med('policy')).toFixed(2)} cores on average`);
    }
    if (px && results.has(key(row, cond, 'today'))) {
      const r = med('policy') / med('today');
      verdicts.push(`- ${row.pair}, ${row.question}, ${cond}: policy ${fmt(med('policy'))} = ${r.toFixed(2)}× today's default's time (${r <= 1 ? `${(1 / r).toFixed(2)}× faster` : `${((r - 1) * 100).toFixed(0)} % slower`}), ${(med('policy') / best).toFixed(2)}× the best fixed setting`);
    }
  }
  return [...lines, '', ...verdicts].join('\n');
}
// one section per pairs and condition (bench:contention-tiny-idle, bench:contention-05b-burst): each can be rerun alone
for (const cond of conditions) {
  publish(run0, { file: 'docs/deploy.md', section: `contention-${v.pairs!.replace(/,/g, '-')}-${cond}`, body: section(cond), runs: RUNS, statistic: STATISTIC });
}
