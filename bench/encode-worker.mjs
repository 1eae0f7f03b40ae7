// One whole vidlm process doing what `llama-mtmd-cli -m M --mmproj P --image 1..N -p Describe. -n 1`
// does: load the pair, decode the N images, encode them, evaluate the prompt, generate one token.
// Prints one JSON line with its in-process encode figures. Uses the compiled package (dist/), so
// no TypeScript loader start-up is timed.
// node bench/encode-worker.mjs <model> <mmproj> <threads> <image>...
import { loadModel, openVideo } from '../dist/index.js';

const [model, mmproj, threads, ...images] = process.argv.slice(2);
const m = await loadModel({ model, mmproj, threads: Number(threads), cache: false });
const frames = [];
for (const path of images) {
  const v = await openVideo(path);
  const [f] = await v.sample({ uniform: 1 });
  await v.close();
  frames.push(f);
}
const { grids, stats } = await m.encodeWithStats(frames, { batchSize: 16 });
const tokens = grids.reduce((n, g) => n + g.nx * g.ny, 0);
const ctx = await m.createContext({ contextSize: tokens + 512, threads: Number(threads) });
const prompt = m.applyTemplate([{ role: 'user', content: `${m.mediaMarker.repeat(frames.length)}Describe.` }]);
const pieces = prompt.split(m.mediaMarker);
const plan = [{ text: pieces[0] }];
grids.forEach((g, i) => plan.push({ tokens: m.imageWrap.before }, { embeddings: g.data, count: g.nx * g.ny }, { tokens: m.imageWrap.after }, { text: pieces[i + 1] }));
const pre = await ctx.prefill(plan.filter((p) => !('text' in p) || p.text.length > 0));
await ctx.generate({ maxTokens: 1, temperature: 0 });
console.log(JSON.stringify({ encodeMs: stats.ms, graphs: stats.batches, tokens, prompt: pre.nPast }));
ctx.dispose();
m.dispose();
