// One question in a process of its own, for bench/reduce.ts (the parent times the whole process):
// loads the pair from the built package (dist/), asks with the row's `reduce`, prints one JSON
// line: ask()'s timings, the time to the first answer token from the call, tokens, frames kept.
import { ask, loadModel } from '../dist/index.js';

const c = JSON.parse(process.argv[2]);
const model = await loadModel({ model: c.model, mmproj: c.mmproj, cache: false, threads: c.threads });
const t0 = performance.now();
let first = 0;
const r = await ask(c.input, 'What happens in the video?', {
  model, strategy: c.strategy, frames: c.frames, maxTokens: 4, temperature: 0, contextSize: c.contextSize, reduce: c.reduce,
  onToken: () => { if (!first) first = performance.now() - t0; },
});
model.dispose();
process.stdout.write(JSON.stringify({ ttftMs: first || performance.now() - t0, timings: r.timings, tokens: r.tokens, frames: r.frames.length, encoded: r.reduced ? r.reduced.pictures : r.frames.length, reduced: r.reduced ?? null }) + '\n');
