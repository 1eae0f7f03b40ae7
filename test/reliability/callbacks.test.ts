// Issue 11, item 15: a callback that throws, or an async one that rejects, cancels its call
// with ERR_CALLBACK (the callback's error as `cause`): no warning, no unhandled rejection.
import t from 'tap';
import { ask, loadModel, VidlmError } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { frame, tinyModel } from '../inference/helpers.js';

const warnings: string[] = [];
const unhandled: unknown[] = [];
process.on('warning', (w) => warnings.push(w.name));
process.on('unhandledRejection', (e) => unhandled.push(e));

t.test('loadModel: a throwing onProgress and a rejecting async one', async (t) => {
  const m = await tinyModels();
  const boom = new Error('boom');
  const err = await loadModel({ model: m.model, mmproj: m.mmproj, onProgress: () => { throw boom; } }).catch((e: unknown) => e);
  t.ok(err instanceof VidlmError && err.code === 'ERR_CALLBACK', String(err));
  t.equal((err as Error).cause, boom);
  const err2 = await loadModel({ model: m.model, mmproj: m.mmproj, onProgress: async () => { throw boom; } }).catch((e: unknown) => e);
  t.ok(err2 instanceof VidlmError && err2.code === 'ERR_CALLBACK', String(err2));
});

t.test('encode, prefill and ask: throwing callbacks', async (t) => {
  const model = await tinyModel({ cache: false, threads: 1 });
  t.teardown(() => model.dispose());
  await t.rejects(model.encode([frame(1), frame(2)], { onProgress: () => { throw new Error('x'); } }), { code: 'ERR_CALLBACK' });
  const ctx = await model.createContext({ contextSize: 512, batchSize: 8 }); // many batches: progress during the prefill
  await t.rejects(ctx.prefill([{ text: 'USER: hi'.repeat(40) }], { onProgress: async () => { throw new Error('y'); } }), { code: 'ERR_CALLBACK' });
  ctx.dispose();
  const still = await media.image('png');
  await t.rejects(ask(still, 'Hi?', { model, onToken: () => { throw new Error('z'); } }), { code: 'ERR_CALLBACK', details: { callback: 'onToken' } });
  await t.rejects(ask(still, 'Hi?', { model, onProgress: async () => { throw new Error('w'); } }), { code: 'ERR_CALLBACK', details: { callback: 'onProgress' } });
  const r = await ask(still, 'Hi?', { model, maxTokens: 2 });
  t.ok(r.tokens.generated > 0, 'the model still answers');
});

t.test('no warnings and no unhandled rejections', async (t) => {
  await new Promise((r) => setTimeout(r, 50)); // let late rejections surface
  t.same(warnings, []);
  t.same(unhandled, []);
});
