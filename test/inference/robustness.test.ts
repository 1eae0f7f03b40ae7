// The addon under stress: disposal during a call, aborted prefill, and a long loop of asks whose
// memory must stay flat.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ask } from '../../lib/index.js';
import { frame, tinyModel } from './helpers.js';

t.test('disposing a model while it encodes: the call finishes, later calls get ERR_DISPOSED', async (t) => {
  const model = await tinyModel({ cache: false });
  const running = model.encode(Array.from({ length: 8 }, (_, k) => frame(k)));
  model.dispose();
  const grids = await running;
  t.equal(grids.length, 8, 'the running encode completed');
  await t.rejects(model.encode([frame(0)]), { code: 'ERR_DISPOSED' });
  await t.rejects(model.createContext(), { code: 'ERR_DISPOSED' });
});

t.test('a context keeps its model alive after model.dispose()', async (t) => {
  const model = await tinyModel();
  const [g] = await model.encode([frame(1)]);
  const ctx = await model.createContext({ contextSize: 256 });
  model.dispose();
  await ctx.prefill([{ text: 'USER: ' }, { embeddings: g!.data, count: 64 }, { text: '\nHi\nASSISTANT:' }]);
  const r = await ctx.generate({ maxTokens: 4, temperature: 0 });
  t.equal(r.tokens.generated, 4);
  ctx.dispose();
  t.throws(() => ctx.nPast(), { code: 'ERR_DISPOSED' });
});

t.test('an aborted prefill leaves the context usable', async (t) => {
  const model = await tinyModel();
  t.teardown(() => model.dispose());
  const grids = await model.encode(Array.from({ length: 6 }, (_, k) => frame(k)));
  const plan = grids.flatMap((g) => [{ text: ' ' }, { embeddings: g.data, count: 64 }]);
  const ctx = await model.createContext({ contextSize: 1024, batchSize: 64 });
  const ac = new AbortController();
  const err = await ctx.prefill(plan, { signal: ac.signal, onProgress: () => ac.abort() }).catch((e) => e);
  t.equal(err?.code, 'ERR_ABORTED');
  await ctx.truncate(0, 0);
  const r = await ctx.prefill(plan);
  t.equal(r.nPast, ctx.countTokens(plan), 'the whole plan evaluates after the abort');
});

t.test('200 asks keep memory flat', async (t) => {
  // cache off: every ask runs the encoder, so its buffers are part of what is measured
  const model = await tinyModel({ cache: false });
  t.equal(model.cache, null, 'no embedding cache: the encoder runs in every ask');
  t.teardown(() => model.dispose());
  const dir = join(process.cwd(), '.cache', 'media');
  mkdirSync(dir, { recursive: true });
  const image = join(dir, 'robustness-testsrc.png');
  if (!existsSync(image)) execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=112x112:rate=1', '-frames:v', '1', image]);
  const gc = (globalThis as { gc?: () => void }).gc;
  const once = () => ask(image, 'What is it?', { model, maxTokens: 2, temperature: 0, contextSize: 256 });
  // RSS climbs for the first ~150 asks while malloc arenas fill (seen: +50 MiB, then flat), so
  // the first 100 asks are warm-up and the last 100 are measured. A live context of this model
  // holds ~1.8 MiB (KV cache, output and compute buffers): one leaked per ask adds ~180 MiB over
  // them, while allocator noise was seen up to 24 MiB in a fresh CI clone.
  for (let i = 0; i < 100; i++) await once();
  gc?.();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < 100; i++) await once();
  gc?.();
  const grown = (process.memoryUsage().rss - before) / 2 ** 20;
  t.ok(grown < 64, `RSS grew ${grown.toFixed(1)} MiB over the last 100 of 200 asks`);
});
