// A watch's onToken that throws (or returns a promise that rejects) ends the watch with
// ERR_CALLBACK, its cause the callback's error, as ask()'s callbacks do; the model then answers on.
// Both pairs.
import t from 'tap';
import { ask, loadModel, VidlmError, watch } from '../../lib/index.js';
import { mropeAndLlavaPairs } from '../fixtures/tiny-models.js';
import { colourClip } from './helpers.js';

const clip = await colourClip(4, [[1, 2]]);
const pairs = await mropeAndLlavaPairs();

for (const p of pairs) {
  t.test(p.name, async (t) => {
    const model = await loadModel({ ...p.paths, threads: 1 });
    t.teardown(() => model.dispose());
    const boom = new Error('boom');
    for (const [how, onToken] of [['throws', () => { throw boom; }], ['rejects', async () => { throw boom; }]] as const) {
      let windows = 0;
      const err = await (async () => {
        for await (const x of watch(clip, { model, every: 1, window: 2, fps: 2, realtime: false, maxTokens: 4, onToken })) if (x.type === 'window') windows++;
      })().then(() => null, (e: unknown) => e);
      t.ok(err instanceof VidlmError && err.code === 'ERR_CALLBACK', `onToken ${how}: ${String(err)}`);
      t.equal((err as Error).cause, boom, 'the cause is what the callback threw');
      t.equal(windows, 0, 'no window was answered past the failure');
    }
    const after = await ask(clip, 'What happens?', { model, frames: 2, maxTokens: 2 });
    t.ok(after.tokens.generated > 0, 'the model answers on');
  });
}
