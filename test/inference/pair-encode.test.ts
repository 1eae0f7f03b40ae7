// model.encode({ pairs: true }) on the Qwen-VL family: frames 2k and 2k+1 encoded as one merged
// temporal step through libmtmd's encoder (an odd last frame alone), cached under both frames. The
// embeddings are libmtmd's own: evaluated at libmtmd's positions through context.prefill they give
// the same final position and greedy answer as prefillMedia with mergeable frames (llama-mtmd-cli's
// path for a video), and the encoder's own counters see one graph input per pair.
import t from 'tap';
import { loadModel } from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { frame } from './helpers.js';

const m = await tinyModels();
const prefix = '<|im_start|>user\n';
const suffix = '\nWhat happens?<|im_end|>\n<|im_start|>assistant\n';
const encoded = () => native().encoderCounters().framesEncoded;

for (const [name, model_, mmproj] of [['qwen2vl', m.qwen2vlModel, m.qwen2vlMmproj], ['qwen2.5vl', m.qwen2vlModel, m.qwen25vlMmproj], ['qwen3vl', m.qwen3vlModel, m.qwen3vlMmproj]] as const) {
  t.test(`${name}: a pair encode is libmtmd's merged frame pair`, async (t) => {
    const model = await loadModel({ model: model_, mmproj, threads: 1 });
    t.teardown(() => model.dispose());
    type Ctx = Awaited<ReturnType<typeof model.createContext>>;
    const answer = async (ctx: Ctx) => {
      const g = ctx.generate({ maxTokens: 12, temperature: 0 });
      for await (const _ of g) { /* drain */ }
      return (await g.result).text;
    };
    const frames = [0, 1, 2, 3, 4].map((k) => frame(k, k * 0.5));

    const ref = await model.createContext({ contextSize: 1024 });
    t.teardown(() => ref.dispose());
    const r = await ref.prefillMedia(prefix + model.mediaMarker.repeat(5) + suffix, frames, { mergeable: true });
    const expected = await answer(ref);

    const before = encoded();
    const { grids, stats } = await model.encodeWithStats(frames, { pairs: true });
    t.equal(encoded() - before, 3, 'the encoder ran on 3 chunks: (0,1), (2,3) and the lone 4');
    t.same(grids.map((g) => [g.t, g.nx, g.ny]), [[0, 4, 4], [1, 4, 4], [2, 4, 4]], 'one 4×4 grid per pair, at its first frame time');
    t.same([stats.encoded, stats.cached], [5, 0], 'stats count frames, as without pairs');

    const w = { before: ref.detokenize(model.imageWrap.before), after: ref.detokenize(model.imageWrap.after) };
    const plan = [
      { text: prefix },
      ...grids.flatMap((g) => [{ text: w.before }, { embeddings: g.data, count: g.nx * g.ny, grids: [{ nx: g.nx, ny: g.ny }] }, { text: w.after }]),
      { text: suffix },
    ];
    const ours = await model.createContext({ contextSize: 1024 });
    t.teardown(() => ours.dispose());
    const p = await ours.prefill(plan);
    t.equal(p.nPast, r.nPast, `the sequence ends at libmtmd's position (${r.nPast})`);
    t.equal(await answer(ours), expected, `the same greedy answer as prefillMedia's merged pairs (${JSON.stringify(expected)})`);

    // frames encoded alone are not the pair: the pair's embeddings depend on both frames
    const single = await model.encode(frames.slice(0, 2), { cache: false });
    t.notSame(Array.from(single[0]!.data.slice(0, 32)), Array.from(grids[0]!.data.slice(0, 32)), 'frame 0 alone differs from the pair (0,1)');
    const swapped = await model.encode([frames[0]!, { ...frames[3]!, t: 0.5 }], { pairs: true, cache: false });
    t.notSame(Array.from(swapped[0]!.data.slice(0, 32)), Array.from(grids[0]!.data.slice(0, 32)), 'a different second frame gives a different pair');

    // cached under both frames: the same pairs again encode nothing; a new pairing encodes anew
    const again = encoded();
    const second = await model.encodeWithStats(frames, { pairs: true });
    t.same([second.stats.encoded, second.stats.cached, encoded() - again], [0, 5, 0], 'all three pairs from the cache, no encoder run');
    t.equal(second.grids[1]!.data, grids[1]!.data, 'the cached embeddings themselves');
    const shifted = await model.encodeWithStats(frames.slice(1), { pairs: true });
    t.same([shifted.stats.encoded, shifted.stats.cached, encoded() - again], [4, 0, 2], '(1,2), (3,4) are other pairs: encoded');
    const lone = await model.encodeWithStats([frames[4]!], { pairs: true });
    t.same([lone.stats.encoded, lone.stats.cached], [0, 1], 'the lone last frame is the same chunk whichever call made it');
  });
}

t.test('pairs on a model that does not merge frames: ERR_UNSUPPORTED before any work', async (t) => {
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const before = encoded();
  t.throws(() => model.encodeWithStats([frame(0), frame(1)], { pairs: true }), { code: 'ERR_UNSUPPORTED', message: /temporal step/ });
  t.throws(() => model.encodeWithStats([frame(0)], { pairs: 'yes' as unknown as boolean }), { code: 'ERR_INVALID_ARG' });
  t.equal(encoded(), before);
});
