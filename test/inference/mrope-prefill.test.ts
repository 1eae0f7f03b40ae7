// Embeddings evaluated in the addon's own batch with positions vidlm computes (lib/assembly/mrope.ts)
// on an M-RoPE model (the tiny Qwen2-VL pair): frames encoded once by model.encode and evaluated
// with libmtmd's rule give the same KV, positions and greedy answer as libmtmd's own helper
// (prefillMedia, which is llama-mtmd-cli's path: test/reference).
import t from 'tap';
import { loadModel } from '../../lib/index.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { frame } from './helpers.js';

const m = await tinyModels();
const model = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1, cache: false });
t.teardown(() => model.dispose());
const prefix = '<|im_start|>user\n';
const suffix = '\nWhat happens?<|im_end|>\n<|im_start|>assistant\n';

type Ctx = Awaited<ReturnType<typeof model.createContext>>;
const answer = async (ctx: Ctx) => {
  const g = ctx.generate({ maxTokens: 16, temperature: 0 });
  for await (const _ of g) { /* drain */ }
  return (await g.result).text;
};

t.test('encoded frames at vidlm-computed positions = libmtmd\'s helper, token for token', async (t) => {
  const frames = [frame(0), frame(1), frame(2)];
  const ref = await model.createContext({ contextSize: 1024 });
  t.teardown(() => ref.dispose());
  const r = await ref.prefillMedia(prefix + model.mediaMarker.repeat(3) + suffix, frames, { mergeable: false });
  const expected = await answer(ref);

  const { frames: grids } = await model.encodeWithStats(frames, {}).then((x) => ({ frames: x.grids }));
  t.same(grids.map((g) => [g.nx, g.ny]), [[4, 4], [4, 4], [4, 4]], '112×112 → 8×8 patches merged 2×2');
  const before = ref.detokenize(model.imageWrap.before), after = ref.detokenize(model.imageWrap.after);
  const plan = [
    { text: prefix },
    ...grids.flatMap((g) => [{ text: before }, { embeddings: g.data, count: g.nx * g.ny, grids: [{ nx: g.nx, ny: g.ny }] }, { text: after }]),
    { text: suffix },
  ];
  for (const mergeText of [true, false]) {
    const ours = await model.createContext({ contextSize: 1024 });
    const p = await ours.prefill(plan, { mergeText });
    t.equal(p.nPast, r.nPast, `the sequence ends at libmtmd's position (${r.nPast}; mergeText ${mergeText})`);
    t.equal(p.evaluated, r.evaluated + 3 * (16 - 4), 'every embedding takes a KV cell: 12 more cells than positions for 3 images');
    t.equal(await answer(ours), expected, `the same greedy answer (${JSON.stringify(expected)}; mergeText ${mergeText})`);
    await ours.dispose();
  }

  // 1-D positions for the same embeddings: each embedding a position of its own
  const flat = await model.createContext({ contextSize: 1024 });
  t.teardown(() => flat.dispose());
  const ones = plan.map((it) => ('grids' in it ? { embeddings: it.embeddings, count: it.count } : it));
  const f = await flat.prefill(ones);
  t.equal(f.nPast, r.nPast + 3 * (16 - 4), 'without grids each embedding takes a position of its own');
});

t.test('positions are checked before anything is evaluated', async (t) => {
  const ctx = await model.createContext({ contextSize: 256 });
  t.teardown(() => ctx.dispose());
  const e = new Float32Array(4 * model.info.nEmbd);
  await t.rejects(ctx.prefill([{ embeddings: e, count: 4, grids: [{ nx: 3, ny: 1 }] }]), { code: 'ERR_INVALID_ARG' });
  await t.rejects(ctx.prefill([{ embeddings: e, count: 4, positions: new Int32Array(15), span: 2 }]), { code: 'ERR_INVALID_ARG', message: /4 × count/ });
  await t.rejects(ctx.prefill([{ embeddings: e, count: 4, positions: new Int32Array(16).fill(3), span: 2 }]), { code: 'ERR_INVALID_ARG', message: /span/ });
  await t.rejects(ctx.prefill([{ embeddings: e, count: 4, positions: Int32Array.from({ length: 16 }, (_, i) => (i === 15 ? -1 : 0)), span: 1 }]), { code: 'ERR_INVALID_ARG', message: /between 0/ });
  const p = await ctx.prefill([{ text: 'hi' }]);
  const fresh = await model.createContext({ contextSize: 256 });
  t.teardown(() => fresh.dispose());
  const q = await fresh.prefill([{ text: 'hi' }]);
  t.equal(p.nPast, q.nPast, 'nothing was evaluated before: the same as on a fresh context');
});
