/**
 * Chat latency on the tiny model and a generated 20 s clip: the time to the first token of a
 * follow-up question asked in a chat (only its own tokens are evaluated; the video stays in the
 * KV cache) against the same question asked fresh with a one-shot ask() (decode, encode and
 * prefill of the video again, then the question), in the same process, taking turns.
 * The one-shot baseline runs twice: with no embedding cache (nothing reused) and with the cache
 * warm (the frames' tokens reused; decode and prefill still run).
 *
 * Run: npm run bench -- chat [--strategy concat] [--frames 8] [--repeat 3] [--write-docs]
 *      (--write-docs: docs/benchmarks.md, section bench:chat)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ask, chat, loadModel, type StrategyName } from '../lib/index.js';
import { tinyModels } from '../lib/fixtures/tiny-models.js';
import { benchRun, median, publish, spread } from './doc-table.js';

const { values } = parseArgs({ options: { strategy: { type: 'string' }, frames: { type: 'string' }, repeat: { type: 'string' }, 'write-docs': { type: 'boolean' }, markdown: { type: 'boolean' } } });
const run = benchRun('chat');
const strategy = (values.strategy ?? 'concat') as StrategyName;
const frames = values.frames ? Number(values.frames) : undefined;
const REPEAT = Number(values.repeat ?? 3);
const dir = join(process.cwd(), '.cache', 'media');
mkdirSync(dir, { recursive: true });
const clip = join(dir, 'demo-20s.mp4');
if (!existsSync(clip)) {
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=duration=20:size=320x240:rate=25', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', clip]);
}
const m = await tinyModels();
const cold = await loadModel({ model: m.model, mmproj: m.mmproj, cache: false });
const warm = await loadModel({ model: m.model, mmproj: m.mmproj });
const Q1 = 'What happens in this video?';
const Q2 = 'What colour is the background?';
const gen = { maxTokens: 8, temperature: 0 } as const;
const opts = { strategy, frames, contextSize: 4096 };

/** Milliseconds from the call to its first streamed piece. */
async function firstToken(start: (onToken: () => void) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  let first = 0;
  await start(() => { if (!first) first = performance.now() - t0; });
  return first;
}

await ask(clip, Q2, { model: warm, ...opts, ...gen }); // fills the warm model's embedding cache
const times = { chatFirst: [] as number[], followUp: [] as number[], fresh: [] as number[], freshWarm: [] as number[] };
let evaluated = 0;
let prefix = 0;
for (let r = 0; r < REPEAT; r++) {
  const t0 = performance.now();
  const c = await chat(clip, { model: cold, ...opts });
  const q1 = c.ask(Q1, gen);
  let seen = false;
  for await (const _ of q1) { if (!seen) { seen = true; times.chatFirst.push(performance.now() - t0); } }
  await q1.turn;
  prefix = c.context.nPast(0);
  times.followUp.push(await firstToken(async (on) => { const q2 = c.ask(Q2, gen); for await (const _ of q2) on(); evaluated = (await q2.turn).evaluated; }));
  c.context.dispose();
  times.fresh.push(await firstToken((on) => ask(clip, Q2, { model: cold, ...opts, ...gen, onToken: on })));
  times.freshWarm.push(await firstToken((on) => ask(clip, Q2, { model: warm, ...opts, ...gen, onToken: on })));
}
cold.dispose();
warm.dispose();

const [c1, f, b, bw] = [median(times.chatFirst), median(times.followUp), median(times.fresh), median(times.freshWarm)];
console.log(`chat on a 20 s clip, ${strategy}, tiny model, time to first token, median of ${REPEAT}`);
console.log(`  first question of a chat     ${c1.toFixed(0).padStart(6)} ms  (video + question; ${prefix} positions after its answer)`);
console.log(`  follow-up question in a chat ${f.toFixed(0).padStart(6)} ms  (${evaluated} new tokens evaluated)`);
console.log(`  same question, one-shot ask  ${b.toFixed(0).padStart(6)} ms  (no embedding cache: decode + encode + prefill again)`);
console.log(`  same question, one-shot ask  ${bw.toFixed(0).padStart(6)} ms  (embedding cache warm: decode + prefill again)`);
console.log(`  follow-up vs one-shot: ${(b / f).toFixed(1)}× sooner (${(bw / f).toFixed(1)}× with the cache warm)`);
const ms = (x: number) => `${x.toFixed(0)} ms`;
const per = (xs: number[]) => { const r = xs.map((x, k) => x / times.followUp[k]!); return `${(median(xs) / f).toFixed(1)}× (${Math.min(...r).toFixed(1)}–${Math.max(...r).toFixed(1)})`; };
publish(run, {
  file: 'docs/benchmarks.md', section: 'chat', runs: REPEAT,
  body: [`| ${strategy}${frames ? `, ${frames} frames` : ''}, tiny model | time to first token | vs the follow-up |`, '| --- | --- | --- |',
    `| follow-up in a chat (${evaluated} tokens evaluated) | ${spread(times.followUp, ms)} | 1× |`,
    `| the same question, one-shot \`ask()\`, no embedding cache | ${spread(times.fresh, ms)} | ${per(times.fresh)} |`,
    `| the same question, one-shot \`ask()\`, embedding cache warm | ${spread(times.freshWarm, ms)} | ${per(times.freshWarm)} |`,
    `| first question of a chat (video + question) | ${spread(times.chatFirst, ms)} | ${per(times.chatFirst)} |`].join('\n'),
  statistic: 'in one process, call against call, the four taking turns in each run; times are medians with min–max, ratios the ratio of medians with the range of per-run ratios',
});
