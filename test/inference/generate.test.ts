import t from 'tap';
import type { Context } from '../../lib/index.js';
import { frame, tinyModel } from './helpers.js';

const model = await tinyModel();
t.teardown(() => model.dispose());
const [grid] = await model.encode([frame(0)]);
const prompt = model.applyTemplate([{ role: 'user', content: `${model.mediaMarker}\nWhat is in the image?` }]);
const [before, after] = prompt.split(model.mediaMarker) as [string, string];
const plan = [{ text: before }, { embeddings: grid!.data, count: 64 }, { text: after }];

async function fresh(contextSize = 512): Promise<Context> {
  const ctx = await model.createContext({ contextSize, threads: 2 });
  await ctx.prefill(plan);
  return ctx;
}

t.test('the chat template is the model\'s own (vicuna style)', async (t) => {
  t.equal(prompt, 'USER: <__media__>\nWhat is in the image?\nASSISTANT:');
});

t.test('a context uses the model\'s thread count unless it is given its own', async (t) => {
  const one = await tinyModel({ threads: 1 });
  t.teardown(() => one.dispose());
  const a = await one.createContext({ contextSize: 64 });
  t.equal(a.threads, 1, 'loadModel({ threads: 1 }) reaches the LLM context');
  const b = await one.createContext({ contextSize: 64, threads: 2 });
  t.equal(b.threads, 2, 'createContext({ threads }) overrides it');
  t.equal((await model.createContext({ contextSize: 64 })).threads, 2);
  await t.rejects(one.createContext({ threads: 0 }), { code: 'ERR_INVALID_ARG' });
});

t.test('countTokens is known before any work and equals what prefill evaluates', async (t) => {
  const ctx = await model.createContext({ contextSize: 512 });
  const n = ctx.countTokens(plan);
  const textTokens = ctx.tokenize(before).length + ctx.tokenize(after).length;
  t.equal(n, 1 + textTokens + 64, 'BOS + text tokens + 64 image tokens');
  const r = await ctx.prefill(plan);
  t.equal(r.evaluated, n);
  t.equal(ctx.nPast(), n);
});

t.test('a plan that does not fit: ERR_CONTEXT_FULL with the numbers, nothing evaluated', async (t) => {
  const ctx = await model.createContext({ contextSize: 256 });
  const images = Math.ceil(ctx.contextSize / 64) + 1; // llama.cpp may round the size up: overflow whatever it is
  const big = [{ text: before }, ...Array.from({ length: images }, () => ({ embeddings: grid!.data, count: 64 })), { text: after }];
  const err = await ctx.prefill(big).catch((e) => e);
  t.equal(err.code, 'ERR_CONTEXT_FULL');
  t.match(err.message, new RegExp(`needs ${ctx.countTokens(big)} tokens but only ${ctx.contextSize} of ${ctx.contextSize} are free`));
  t.equal(ctx.nPast(), 0, 'nothing was evaluated');
  await ctx.prefill(plan);
  const r = await ctx.generate({ maxTokens: 2, temperature: 0 });
  t.equal(r.tokens.generated, 2, 'the context works after the refusal');
});

t.test('greedy generation is deterministic and streams exactly its text', async (t) => {
  const a = await fresh();
  const gen = a.generate({ maxTokens: 12, temperature: 0 });
  const pieces: string[] = [];
  for await (const p of gen) pieces.push(p);
  const r = await gen;
  t.equal(pieces.join(''), r.text, 'the pieces add up to the text');
  t.notOk(pieces.some((p) => p.includes('\uFFFD')), 'no piece splits a UTF-8 character');
  t.equal(r.tokens.generated, 12);
  t.equal(r.stopReason, 'maxTokens');
  const b = await fresh();
  t.equal((await b.generate({ maxTokens: 12, temperature: 0 })).text, r.text, 'same prompt, same greedy answer');
});

t.test('seeded sampling repeats with the same seed', async (t) => {
  const opts = { maxTokens: 10, temperature: 1.5, topK: 0, topP: 1, minP: 0, seed: 42 };
  const x = await (await fresh()).generate(opts);
  const y = await (await fresh()).generate(opts);
  t.equal(x.text, y.text);
});

t.test('a stop string ends the answer and is not part of it', async (t) => {
  const full = (await (await fresh()).generate({ maxTokens: 16, temperature: 0 })).text;
  const stop = full.slice(6, 10); // four characters from the middle of the greedy answer
  const r = await (await fresh()).generate({ maxTokens: 16, temperature: 0, stop: [stop] });
  t.equal(r.stopReason, 'stop');
  t.equal(r.text, full.slice(0, full.indexOf(stop)));
});

t.test('a GBNF grammar constrains the answer', async (t) => {
  const r = await (await fresh()).generate({ maxTokens: 8, temperature: 0, grammar: 'root ::= ("yes" | "no") "."' });
  t.match(r.text, /^(yes|no)\.$/);
});

t.test('a JSON schema constrains the answer to valid JSON of that shape', async (t) => {
  const schema = { type: 'object', properties: { start: { type: 'integer' }, end: { type: 'integer' } }, required: ['start', 'end'], additionalProperties: false };
  const r = await (await fresh(1024)).generate({ maxTokens: 64, temperature: 0, jsonSchema: schema });
  const value = JSON.parse(r.text);
  t.same(Object.keys(value).sort(), ['end', 'start']);
  t.ok(Number.isInteger(value.start) && Number.isInteger(value.end));
  await t.rejects(async () => (await fresh()).generate({ jsonSchema: '{not json' }), { code: 'ERR_GRAMMAR' });
});

t.test('abort during generation: ERR_ABORTED, and the context stays usable', async (t) => {
  const ctx = await fresh();
  const start = ctx.nPast();
  const ac = new AbortController();
  const gen = ctx.generate({ maxTokens: 200, temperature: 0, signal: ac.signal });
  let n = 0;
  const err = await (async () => { for await (const _ of gen) { if (++n === 3) ac.abort(); } })().catch((e) => e);
  t.equal(err?.code, 'ERR_ABORTED');
  t.ok(ctx.nPast() < start + 200, 'stopped early');
  await ctx.truncate(0, start);
  await t.rejects(ctx.generate({ maxTokens: 1 }).result, { code: 'ERR_INVALID_STATE' }, 'no logits after a truncation: prefill first');
  await ctx.truncate(0, 0);
  await ctx.prefill(plan);
  const again = await ctx.generate({ maxTokens: 12, temperature: 0 });
  const reference = await (await fresh()).generate({ maxTokens: 12, temperature: 0 });
  t.equal(again.text, reference.text, 'after truncating, the same answer as a fresh context');
});

t.test('bad arguments', async (t) => {
  const ctx = await fresh();
  t.throws(() => ctx.generate({ maxTokens: 0 }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => ctx.generate({ temperature: -1 }), { code: 'ERR_INVALID_ARG' });
  await t.rejects(ctx.prefill([{ embeddings: new Float32Array(10), count: 1 }]), { code: 'ERR_INVALID_ARG' });
  const empty = await model.createContext({ contextSize: 64 });
  await t.rejects(async () => empty.generate({}), { code: 'ERR_INVALID_STATE' }, 'nothing to continue from');
});

/**
 * Samples the contexts' positions from a synchronous loop on the JS thread (no await: callbacks
 * and promise jobs cannot run) until every context reached its `end`, or nothing moved for
 * `stallMs` (a guard against hanging on an early end-of-sequence, not a threshold of the test).
 * nPast is written by the native worker threads as they go.
 */
function sampleWhileBlocked(ctxs: Context[], ends: number[], stallMs = 3000): number[][] {
  const samples: number[][] = [];
  let moved = Date.now();
  for (;;) {
    const s = ctxs.map((c) => c.nPast());
    if (samples.length === 0 || s.some((v, i) => v !== samples[samples.length - 1]![i])) { samples.push(s); moved = Date.now(); }
    if (s.every((v, i) => v >= ends[i]!) || Date.now() - moved > stallMs) return samples;
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

t.test('two models generate at the same time: both advance within one blocked stretch of the JS thread', async (t) => {
  const other = await tinyModel();
  t.teardown(() => other.dispose());
  const [c1, c2] = await Promise.all([model.createContext({ contextSize: 1024 }), other.createContext({ contextSize: 1024 })]);
  await Promise.all([c1.prefill(plan), c2.prefill(plan)]);
  const start = [c1.nPast(), c2.nPast()];
  const n = 200;
  const g1 = c1.generate({ maxTokens: n, temperature: 0 });
  const g2 = c2.generate({ maxTokens: n, temperature: 0 });
  await nextTurn(); // both native calls are queued to their worker threads
  const samples = sampleWhileBlocked([c1, c2], [start[0]! + n, start[1]! + n]);
  const [r1, r2] = await Promise.all([g1, g2]);
  // Overlap: one sample where both are strictly inside their generation. Run one after the
  // other, one of them would always be at its start or its end.
  const inside = (s: number[], i: number) => s[i]! > start[i]! && s[i]! < start[i]! + n;
  const both = samples.filter((s) => inside(s, 0) && inside(s, 1));
  t.ok(both.length > 0, `${both.length} of ${samples.length} samples with both models mid-generation`);
  t.equal(r1.tokens.generated, n);
  t.equal(r1.text, r2.text, 'the same weights answer the same');
});

t.test('prefill and generation advance while the JS thread is blocked (they run off it)', async (t) => {
  const ctx = await model.createContext({ contextSize: 1024, batchSize: 64 });
  const grids = await model.encode(Array.from({ length: 8 }, (_, k) => frame(k)));
  const big = [{ text: before }, ...grids.map((g) => ({ embeddings: g.data, count: 64 })), { text: after }];
  const total = ctx.countTokens(big);
  const p = ctx.prefill(big);
  await nextTurn();
  const seen = sampleWhileBlocked([ctx], [total]).map((s) => s[0]!);
  await p;
  t.ok(seen.some((v) => v > 0 && v < total), `positions seen from the blocked JS thread: ${seen.join(', ')}`);
  t.equal(seen[seen.length - 1], total, 'the whole prefill finished while the JS thread was blocked');
  const g = ctx.generate({ maxTokens: 64, temperature: 0 });
  await nextTurn();
  const gen = sampleWhileBlocked([ctx], [total + 64]).map((s) => s[0]!);
  await g;
  t.ok(gen.some((v) => v > total && v < total + 64), `${gen.length} distinct positions during generation`);
  t.equal(gen[gen.length - 1], total + 64, 'all 64 tokens were generated while the JS thread was blocked');
});

t.test('the native media path (libmtmd tokenizer + decoder) gives the answer of the embedding path', async (t) => {
  const f = frame(0);
  const viaEmbeddings = await (await fresh()).generate({ maxTokens: 12, temperature: 0 });
  const ctx = await model.createContext({ contextSize: 512, threads: 2 });
  const r = await ctx.prefillMedia(prompt, [f]);
  t.equal(r.evaluated, ctx.countTokens(plan), 'the same number of positions');
  const viaMedia = await ctx.generate({ maxTokens: 12, temperature: 0 });
  t.equal(viaMedia.text, viaEmbeddings.text);
  await t.rejects(ctx.prefillMedia(`${prompt}${model.mediaMarker}`, [f]), { code: 'ERR_TOKENIZE' }, 'markers and frames must match');
  const small = await model.createContext({ contextSize: 256 });
  await t.rejects(small.prefillMedia(model.mediaMarker.repeat(5), [f, f, f, f, f]), { code: 'ERR_CONTEXT_FULL' });
});
