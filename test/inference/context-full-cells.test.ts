// A context that fills up during an answer or a follow-up, on both position schemes. With M-RoPE
// (the tiny Qwen2-VL pair's native path) a frame takes more KV cells than positions, so the cells
// run out while the positions still fit: the answer must then stop as on a 1-D model
// (stopReason contextFull) and a follow-up that cannot fit must be ERR_CONTEXT_FULL with the
// chat as it was, never llama_decode's "no memory slot" surfacing as ERR_DECODE.
import t from 'tap';
import { ask, chat, loadModel, VidlmError } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { mropeAndLlavaPairs } from '../fixtures/tiny-models.js';

const clip = await media.h264();
const pairs = await mropeAndLlavaPairs({ mrope: 'native path', llava: 'pooled' });

for (const p of pairs) {
  t.test(p.name, async (t) => {
    const model = await loadModel({ ...p.paths, threads: 1 });
    t.teardown(() => model.dispose());

    t.test('ask(): an answer longer than the context stops at its end (contextFull)', async (t) => {
      const r = await ask(clip, 'What happens?', { model, frames: 4, contextSize: 512, maxTokens: 5000, temperature: 0 });
      t.equal(r.stopReason, 'contextFull');
      t.ok(r.tokens.generated > 0, `${r.tokens.generated} tokens generated`);
    });

    t.test('ask(): a pooled plan whose question no longer fits the cells is ERR_CONTEXT_FULL', async (t) => {
      // concat, 16 frames of 16 embeddings and their text: the video fits 512 cells, the question after it does not
      const e = await ask(clip, 'What happens in the video?', { model, frames: 16, strategy: 'concat', contextSize: 512, maxTokens: 4 }).catch((err: unknown) => err);
      t.ok(e instanceof VidlmError && e.code === 'ERR_CONTEXT_FULL', String(e));
    });

    t.test('chat: follow-ups until the context is full end with ERR_CONTEXT_FULL, the chat as it was', async (t) => {
      const c = await chat(clip, { model, frames: 4, contextSize: 512, temperature: 0 });
      t.teardown(() => c.dispose());
      const stops: string[] = [];
      let full: unknown;
      for (let i = 0; i < 40 && !full; i++) {
        const history = c.history.length;
        const nPast = c.context.nPast(c.sequence);
        try {
          stops.push((await c.ask('Tell me more about what happens in the video, in detail.', { maxTokens: 40 }).turn).stopReason);
        } catch (e) {
          full = e;
          t.equal(c.history.length, history, 'the refused turn left the history as it was');
          t.equal(c.context.nPast(c.sequence), nPast, 'and the cache');
        }
      }
      t.ok(full instanceof VidlmError && full.code === 'ERR_CONTEXT_FULL', `the turn that cannot fit: ${String(full)}`);
      t.ok(stops.length > 0 && stops.every((s) => s === 'maxTokens' || s === 'contextFull'), `earlier turns answered: ${stops.join(', ')}`);
    });
  });
}
