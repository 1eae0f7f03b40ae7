/**
 * Prompt-token budget of each strategy for a 60-second clip, beside llama.cpp's own video path at
 * its defaults (mtmd-helper: ffmpeg fps=4, every frame in full, "Video:" and a "[XmY.YYs]"
 * timestamp every 5 s). Visual tokens come from the strategies' own counters for the grids of
 * real encoders (8×8 is the tiny test model; 24×24 CLIP-L/14@336; 27×27 SigLIP-so400m@384);
 * the prompt column is measured end to end with the tiny model on a generated 60 s clip.
 *
 * Run: npm run bench -- tokens
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ask, countTokens, loadModel, strategyDefaults, type StrategyName } from '../lib/index.js';
import { tinyModels } from '../lib/fixtures/tiny-models.js';

const DURATION = 60;
const root = process.cwd();
const dir = join(root, '.cache', 'media');
mkdirSync(dir, { recursive: true });
const clip = join(dir, 'tokens-60s.mp4');
if (!existsSync(clip)) {
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=duration=${DURATION}:size=320x240:rate=25`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', clip]);
}
const m = await tinyModels();
const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 2 });
const ctx = await model.createContext({ contextSize: 256 });

// llama.cpp's video path: 4 fps → 240 frames; a timestamp every 5 s → 12 of them
const llamaFrames = DURATION * 4;
let llamaText = 'Video:';
for (let ms = 0; ms < DURATION * 1000; ms += 5000) llamaText += `[${Math.floor(ms / 60000)}m${((ms % 60000) / 1000).toFixed(2)}s]`;
const llamaTextTokens = ctx.tokenize(llamaText).length;

const rows: { name: string; frames: number; g8: number; g24: number; g27: number; prompt: string }[] = [];
rows.push({ name: 'llama.cpp video (4 fps)', frames: llamaFrames, g8: llamaFrames * 64, g24: llamaFrames * 576, g27: llamaFrames * 729,
  prompt: `${llamaFrames * 64 + llamaTextTokens} (+ question)` });
const strategies: StrategyName[] = ['concat', 'slowfast', 'pllava', 'bilinear', 'vcgpt'];
for (const s of strategies) {
  const frames = strategyDefaults[s].frames;
  const count = (g: number) => countTokens(s, { frames, nx: g, ny: g });
  const r = await ask(clip, 'What happens in this video?', { model, strategy: s, maxTokens: 1, temperature: 0, contextSize: 8192, timeTokens: s === 'slowfast' ? 'lita' : 'none' });
  if (r.tokens.visual !== count(8)) throw new Error(`${s}: measured ${r.tokens.visual} visual tokens, counted ${count(8)}`);
  rows.push({ name: s + (s === 'slowfast' ? ' + LITA time tokens' : ''), frames, g8: count(8), g24: count(24), g27: count(27), prompt: String(r.tokens.prompt) });
}
model.dispose();

console.log(`Visual tokens for a ${DURATION} s clip (per-frame grid G×G), and the whole prompt measured with the tiny model (G = 8):\n`);
console.log(`${'method'.padEnd(28)}${'frames'.padStart(7)}${'G=8'.padStart(9)}${'G=24'.padStart(10)}${'G=27'.padStart(10)}   prompt (G=8)        vs llama.cpp (G=24)`);
for (const r of rows) {
  const ratio = (rows[0]!.g24 / r.g24).toFixed(1);
  console.log(`${r.name.padEnd(28)}${String(r.frames).padStart(7)}${String(r.g8).padStart(9)}${String(r.g24).padStart(10)}${String(r.g27).padStart(10)}   ${r.prompt.padEnd(20)}${r === rows[0] ? '1×' : `${ratio}× fewer`}`);
}
