// Window bounds that are not exact in binary: with every = window = 0.1 s the window ends are sums
// of 0.1 (0.30000000000000004…), so a frame at 0.2 s lies a rounding error before its window's
// start and is still in it (the windows take frames within 1e-6 s of their bounds). Its time inside
// the window must be 0, not -5.6e-17: the Qwen-VL layout refuses a negative frame time. Both pairs,
// the real model answering every window.
import t from 'tap';
import { loadModel, type WatchItem, type WatchWindow } from '../../lib/index.js';
import { watch } from '../../lib/watch/watch.js';
import { mropeAndLlavaPairs } from '../fixtures/tiny-models.js';
import { colourClip } from './helpers.js';

const clip = await colourClip(1, [[0.5, 1]], 30);
const pairs = await mropeAndLlavaPairs({ mrope: 'its own time', llava: 'pooled' });

for (const p of pairs) {
  t.test(`${p.name}: windows of 0.1 s, every 0.1 s, at 30 fps`, async (t) => {
    const model = await loadModel({ ...p.paths, threads: 1 });
    t.teardown(() => model.dispose());
    const items: WatchItem[] = [];
    for await (const x of watch(clip, { model, every: 0.1, window: 0.1, fps: 30, realtime: false, prompt: 'What happens?', maxTokens: 1, temperature: 0 })) items.push(x);
    const windows = items.filter((x): x is WatchWindow => x.type === 'window');
    t.equal(windows.length, 10, 'every window of the 1-s clip answered');
    for (const w of windows) {
      t.equal(w.frames, 3, `window [${w.windowStart}, ${w.windowEnd}): its 3 frames`);
      t.ok(w.frameTimes.every((f) => f >= w.windowStart - 1e-6 && f < w.windowEnd - 1e-6), `frame times ${w.frameTimes.join(', ')} inside it`);
    }
  });
}
