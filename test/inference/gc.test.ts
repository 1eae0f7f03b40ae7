// Disposal by the garbage collector: contexts that are dropped without dispose() give their KV
// cache back once collected. Each context here holds a KV cache of tens of MiB that llama.cpp
// clears (touches) when it creates it, so its memory shows in RSS and leaves it when freed.
import t from 'tap';
import { tinyModel } from './helpers.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (tap passes it: package.json tap.node-arg)');
const model = await tinyModel();
t.teardown(() => model.dispose());
const MiB = 2 ** 20;
const rss = () => process.memoryUsage().rss / MiB;
const settle = async (rounds = 10) => {
  for (let i = 0; i < rounds; i++) { gc!(); await new Promise((r) => setImmediate(r)); }
};

// KV bytes per context: 2 layers × n_ctx × 64 (K and V each) × 2 bytes (f16)
const N_CTX = 65536;
const kvMiB = (2 * N_CTX * 64 * 2 * 2) / MiB;

t.test('dropped contexts are freed by the garbage collector', async (t) => {
  await settle();
  const base = rss();
  const collected: number[] = [];
  const registry = new FinalizationRegistry<number>((i) => collected.push(i));
  await (async () => {
    for (let i = 0; i < 4; i++) {
      const ctx = await model.createContext({ contextSize: N_CTX });
      registry.register(ctx, i);
    }
  })();
  const held = rss() - base;
  t.ok(held > 3 * kvMiB, `4 contexts hold ${held.toFixed(0)} MiB (KV ${kvMiB.toFixed(0)} MiB each)`);
  for (let i = 0; i < 50 && collected.length < 4; i++) await settle(1);
  await settle();
  t.equal(collected.length, 4, 'all four wrappers were collected');
  const left = rss() - base;
  t.ok(left < held / 4, `after collection ${left.toFixed(0)} MiB of the ${held.toFixed(0)} MiB remain`);
});

t.test('control: contexts still referenced keep their memory through the same collections', async (t) => {
  await settle();
  const base = rss();
  const kept = [];
  for (let i = 0; i < 4; i++) kept.push(await model.createContext({ contextSize: N_CTX }));
  const held = rss() - base;
  await settle(20);
  const left = rss() - base;
  // RSS moves by tens of MiB between collections; a freed context would leave ~0
  t.ok(left > held * 0.5, `${left.toFixed(0)} of ${held.toFixed(0)} MiB still held`);
  for (const c of kept) c.dispose();
  await settle();
  t.ok(rss() - base < held / 4, 'dispose() frees them at once');
});
