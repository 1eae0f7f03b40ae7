// The soak (issue 11): 1,000 asks on one model in one process. RSS after ask 1,000 must be
// within 5% of RSS after ask 200 (the first 200 fill the allocator's arenas). Not in the suite
// or .ci/run: npm run test:soak [-- --asks N] [-- --llm-only]. Prints the figures and exits 1
// when over. --llm-only skips video decoding (frames given as pixels: encode, chat, generate),
// to tell the decoder's memory from the model's.
//
// npm run test:soak (run.mjs) starts node with --max-semi-space-size=1. Without it V8's young generation
// grows from 8 to 16 MiB semi-spaces and is first touched somewhere between ask 300 and ask 1,000
// (at 1-3 scavenges per 100 asks): +8 to +13 MiB of RSS that any Node process allocating that slowly
// gains once, whatever it does, and that plateaus (3,000 asks: flat after ask 1,800). The figure
// printed below gives the V8 heap apart, so a growth of vidlm's own memory still shows.
// --watch: the watch soak of issue 13 instead (test/soak/watch-soak.mjs)
if (process.argv.includes('--watch')) {
  await import('./watch-soak.mjs');
  process.exit(process.exitCode ?? 0);
}
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { ask, loadModel } = await import(join(root, 'dist/index.js'));
const { tinyModels } = await import(join(root, 'dist/fixtures/tiny-models.js'));
const i = process.argv.indexOf('--asks');
const asks = i > 0 ? Number(process.argv[i + 1]) : 1000;
const warm = Math.min(200, asks);
const llmOnly = process.argv.includes('--llm-only');
const pixels = [0, 1, 2, 3].map((k) => ({ t: k, width: 112, height: 112, rgb: new Uint8Array(112 * 112 * 3).fill(40 + 50 * k) }));

/** The encode, chat and generate of an ask, without the video. */
async function askPixels(model, question) {
  const grids = await model.encode(pixels, { source: 'soak' });
  const c = await model.chat(grids.map((g) => ({ embeddings: g.data, count: g.nx * g.ny })), { contextOptions: { contextSize: 512 } });
  try { await c.ask(question, { maxTokens: 4, temperature: 0 }).turn; } finally { await c.dispose(); }
}

const dir = join(root, '.cache', 'media');
mkdirSync(dir, { recursive: true });
const clip = join(dir, 'soak-clip.mp4');
if (!existsSync(clip)) execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=112x112:rate=10:duration=3', '-pix_fmt', 'yuv420p', clip]);

const m = await tinyModels();
const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
const rss = () => { globalThis.gc?.(); return process.memoryUsage().rss / 2 ** 20; };
const v8Heap = () => process.memoryUsage().heapTotal / 2 ** 20;
const started = Date.now();
let atWarm = 0;
let heapAtWarm = 0;
for (let n = 1; n <= asks; n++) {
  // alternate questions and strategies so every path (cache hits included) stays in the loop
  const question = n % 2 ? 'What happens?' : 'What colour is it?';
  if (llmOnly) await askPixels(model, question);
  else await ask(clip, question, { model, strategy: n % 3 ? 'concat' : 'pllava', frames: 4, maxTokens: 4, temperature: 0, contextSize: 512 });
  if (n === warm) { atWarm = rss(); heapAtWarm = v8Heap(); }
  if (n % 100 === 0) console.log(`ask ${n}: RSS ${rss().toFixed(1)} MiB`);
}
const atEnd = rss();
const heapAtEnd = v8Heap();
const growth = (atEnd - atWarm) / atWarm;
model.dispose();
console.log(`soak${llmOnly ? ' (--llm-only)' : ''}: ${asks} asks in ${((Date.now() - started) / 1000).toFixed(0)} s; RSS after ask ${warm}: ${atWarm.toFixed(1)} MiB, after ask ${asks}: ${atEnd.toFixed(1)} MiB (${(growth * 100).toFixed(2)}%); V8 heap ${heapAtWarm.toFixed(1)} → ${heapAtEnd.toFixed(1)} MiB; semi-space flags: ${process.execArgv.filter((a) => a.includes('semi-space')).join(' ') || 'none'}`);
process.exitCode = growth <= 0.05 ? 0 : 1;
