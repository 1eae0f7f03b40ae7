// watch with reduce: on a still camera (blue, red from 8 s to 10 s) only the frames that show
// something new are encoded, a window with nothing new keeps the last answer without asking, and
// the gate is in each window's `motion`.
import t from 'tap';
import type { WatchItem, WatchWindow } from '../../lib/index.js';
import { watchWith } from '../../lib/watch/watch.js';
import type { WindowQuestion } from '../../lib/watch/respond.js';
import { tinyModel } from '../inference/helpers.js';
import { colourClip } from '../watch/helpers.js';

const model = await tinyModel({ cache: false, threads: 1 });
t.teardown(() => model.dispose());
const clip = await colourClip(20, [[8, 10]]);
const opts = { model, every: 2, window: 4, fps: 2, realtime: false };

async function windows(reduce?: 'auto'): Promise<{ w: WatchWindow[]; encoded: number; asked: WindowQuestion[] }> {
  const asked: WindowQuestion[] = [];
  const it = watchWith(clip, { ...opts, ...(reduce ? { reduce } : {}) }, { answer: (q) => { asked.push(q); return `seen ${asked.length}`; } });
  const out: WatchItem[] = [];
  for await (const x of it) out.push(x);
  return { w: out.filter((x): x is WatchWindow => x.type === 'window'), encoded: it.stats.encoded, asked };
}

t.test('a still camera: 3 of 40 frames encoded, the still windows gated', async (t) => {
  const off = await windows();
  const on = await windows('auto');
  t.equal(off.encoded, 40, 'today: every frame (2 fps × 20 s) once');
  // by hand: new pictures at 0 s (blue), 8 s (red), 10 s (blue again)
  t.equal(on.encoded, 3);
  t.equal(on.w.length, off.w.length, 'a window item for every window');
  const gated = on.w.filter((w) => w.motion?.gated).map((w) => w.windowEnd);
  t.same(gated, [4, 6, 8, 14, 16, 18, 20], 'only the windows whose new frames hold a change are asked');
  t.equal(on.asked.length, 3);
  for (const w of on.w) {
    if (w.motion?.gated) t.same([w.tokens.prompt, w.encoded], [0, 0]);
    t.equal(w.motion?.judged, 4, 'each window judges its 4 new frames (2 s at 2 fps)');
  }
  t.equal(on.w.find((w) => w.windowEnd === 8)?.text, 'seen 1', 'a gated window repeats the last answer');
  // the window ending at 12 s: 8–12 s, red runs 8–9.5 (one kept frame), blue from 10 (another): 2 blocks at the runs' first times
  const w12 = on.asked[2]!;
  t.same(w12.frames.map((f) => f.t), [8, 10]);
});

t.test('reduce is checked before the watch opens anything', async (t) => {
  t.throws(() => watchWith(clip, { ...opts, reduce: 'always' as never }, {}), { code: 'ERR_INVALID_ARG', details: { option: 'reduce' } });
});
