/**
 * Chat latency: time to the first token of the first question (decode, encode and prefill of
 * the video, then the question) against a follow-up question in the same chat (only its own
 * tokens), on the tiny model and a generated clip.
 *
 * Run: npm run bench -- chat [--strategy concat] [--frames 8]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chat, loadModel, type StrategyName } from '../lib/index.js';
import { tinyModels } from '../lib/fixtures/tiny-models.js';

const { values } = parseArgs({ options: { strategy: { type: 'string' }, frames: { type: 'string' } } });
const strategy = (values.strategy ?? 'concat') as StrategyName;
const frames = values.frames ? Number(values.frames) : undefined;
const dir = join(process.cwd(), '.cache', 'media');
mkdirSync(dir, { recursive: true });
const clip = join(dir, 'demo-20s.mp4');
if (!existsSync(clip)) {
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=duration=20:size=320x240:rate=25', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', clip]);
}
const m = await tinyModels();
const model = await loadModel({ model: m.model, mmproj: m.mmproj, cache: false });

const first = async <T>(gen: AsyncIterable<T>) => { for await (const _ of gen) return; };
const t0 = performance.now();
const c = await chat(clip, { model, strategy, frames, contextSize: 4096 });
const q1 = c.ask('What happens in this video?', { maxTokens: 8, temperature: 0 });
await first(q1);
const ttft1 = performance.now() - t0;
const turn1 = await q1.turn;
const t1 = performance.now();
const q2 = c.ask('What colour is the background?', { maxTokens: 8, temperature: 0 });
await first(q2);
const ttft2 = performance.now() - t1;
const turn2 = await q2.turn;
console.log(`chat on a 20 s clip, ${strategy}, tiny model`);
console.log(`  question 1: first token after ${ttft1.toFixed(0)} ms (video + question; ${c.context.nPast(0) - turn2.evaluated - turn2.tokens.generated - turn1.tokens.generated} positions before its answer)`);
console.log(`  question 2: first token after ${ttft2.toFixed(0)} ms (${turn2.evaluated} new tokens evaluated)`);
console.log(`  ratio: ${(ttft1 / ttft2).toFixed(1)}× sooner`);
c.context.dispose();
model.dispose();
