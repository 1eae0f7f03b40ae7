// Text tokens evaluated as their token-embedding rows, in the same decodes as the frames around
// them (prefill's mergeText, the default): the same answer as item-by-item evaluation, with one
// decode per batch instead of one per item.
import t from 'tap';
import { loadModel, type Model } from '../../lib/index.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { frame, tinyModel } from './helpers.js';

const model = await tinyModel();
t.teardown(() => model.dispose());
const grids = await model.encode(Array.from({ length: 12 }, (_, k) => frame(k)));
// LITA's layout: a time token before each frame, then the question
const plan = [
  { text: 'USER: ' },
  ...grids.flatMap((g, k) => [{ text: `<t${k * 9}>` }, { embeddings: g.data, count: 64 }]),
  { text: '\nWhen does the picture change?\nASSISTANT:' },
];

async function answer(opts: { mergeText: boolean; batchSize?: number }, m: Model = model) {
  const ctx = await m.createContext({ contextSize: 1536, ...(opts.batchSize ? { batchSize: opts.batchSize } : {}) });
  const r = await ctx.prefill(plan, { mergeText: opts.mergeText });
  const g = ctx.generate({ maxTokens: 24, temperature: 0 });
  for await (const _ of g) { /* drain */ }
  const text = (await g.result).text;
  return { r, text, total: ctx.countTokens(plan), batchSize: ctx.batchSize };
}

t.test('merged and item-by-item prefill give the same answer', async (t) => {
  const items = await answer({ mergeText: false });
  const merged = await answer({ mergeText: true });
  t.equal(merged.r.evaluated, items.r.evaluated, 'same tokens evaluated');
  t.equal(merged.r.nPast, merged.total);
  // adjacent text joins into one item: [BOS, USER:, <t0>], then 12 frames with 11 time tokens
  // between them, then the question = 1 + 12 + 11 + 1 = 25 items
  t.equal(items.r.decodes, 25, 'item by item: one decode per item');
  t.equal(merged.r.decodes, Math.ceil(merged.total / merged.batchSize), 'merged: one decode per batch');
  t.equal(merged.r.decodes, 1);
  t.ok(merged.text.length > 0);
  t.equal(merged.text, items.text, `same greedy answer (${JSON.stringify(merged.text)})`);
});

t.test('merged batches split at the batch size, rows in plan order', async (t) => {
  const items = await answer({ mergeText: false, batchSize: 48 });
  const merged = await answer({ mergeText: true, batchSize: 48 });
  t.equal(merged.r.decodes, Math.ceil(merged.total / 48), `${merged.r.decodes} decodes of ≤ 48 rows`);
  t.type(items.r.decodes, 'number');
  t.ok(items.r.decodes! > merged.r.decodes!, `item by item: ${items.r.decodes}`); // both numbers: checked above
  t.equal(merged.text, items.text);
});

t.test('a plan of text only goes as tokens', async (t) => {
  const ctx = await model.createContext({ contextSize: 256 });
  const text = [{ text: 'USER: hello' }, { text: ' there\nASSISTANT:' }];
  const r = await ctx.prefill(text);
  t.equal(r.decodes, 1);
  t.equal(r.evaluated, ctx.countTokens(text));
});

// The other graphs whose token step is a plain token_embd lookup (native/token_rows.cpp), each a
// tiny LLM with that architecture's own tensors; the frames are the LLaVA encoder's 64-wide tokens.
for (const arch of ['qwen2', 'qwen3', 'mistral3'] as const) {
  t.test(`${arch}: merged prefill in one decode, the answer of item-by-item prefill`, async (t) => {
    const paths = await tinyModels();
    const llm = await loadModel({ model: paths[`${arch}Model`], threads: 2 });
    t.teardown(() => llm.dispose());
    t.equal(llm.info.architecture, arch);
    const items = await answer({ mergeText: false }, llm);
    const merged = await answer({ mergeText: true }, llm);
    t.equal(items.r.decodes, 25, 'item by item: one decode per item');
    t.equal(merged.r.decodes, 1, 'merged: text rows went with the frames');
    t.equal(merged.r.nPast, items.r.nPast);
    t.ok(merged.text.length > 0);
    t.equal(merged.text, items.text, `same greedy answer (${JSON.stringify(merged.text)})`);
  });
}
