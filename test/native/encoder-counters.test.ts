// The addon's encoder counters (issue 30): benchmarks report "frames encoded" from these, counted
// where libmtmd's encoder runs, not from the surface under test. They must move by exactly what was
// encoded: every frame of an uncached encode, nothing for a cache hit, one per image chunk on the
// model's own media path, and not at all for text.
import t from 'tap';
import { loadModel } from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { frame } from '../inference/helpers.js';

const m = await tinyModels();
const count = () => native().encoderCounters();

t.test('Model.encode: one count per frame that reaches the encoder, none for cache hits', async (t) => {
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const frames = [frame(0), frame(1), frame(2)];
  let before = count();
  const a = await model.encodeWithStats(frames);
  let after = count();
  t.equal(after.framesEncoded - before.framesEncoded, 3, 'three new frames: three encoded');
  t.equal(after.graphs - before.graphs, a.stats.batches, 'graphs as encode() reports them (LLaVA: one per frame)');
  before = count();
  const b = await model.encodeWithStats(frames);
  after = count();
  t.equal(b.stats.encoded, 0);
  t.equal(after.framesEncoded - before.framesEncoded, 0, 'cache hits encode nothing');
  before = count();
  await model.encodeWithStats([frame(0), frame(7)]);
  t.equal(count().framesEncoded - before.framesEncoded, 1, 'one hit, one miss');
  before = count();
  await model.encodeWithStats(frames, { cache: false });
  t.equal(count().framesEncoded - before.framesEncoded, 3, 'cache: false encodes every frame again');
});

t.test('prefillMedia: one count per image chunk libmtmd encodes; text moves nothing', async (t) => {
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1, cache: false });
  t.teardown(() => model.dispose());
  const ctx = await model.createContext({ contextSize: 1024, threads: 1 });
  t.teardown(() => ctx.dispose());
  const before = count();
  const r = await ctx.prefillMedia(`${model.mediaMarker}${model.mediaMarker}\nWhat happens?`, [frame(3), frame(4)]);
  t.equal(r.chunks?.filter((c) => c.type === 'image').length, 2);
  t.equal(count().framesEncoded - before.framesEncoded, 2);
  const mid = count();
  await ctx.prefill([{ text: 'only text' }]);
  t.same(count(), mid, 'a text prefill encodes nothing');
});
