// The policy's generation path must not start threads per token (issue 26, idle rows: with ggml's
// per-graph pool every generated token started and joined a worker; beside any other work the new
// thread waited a scheduler slice for a core, ~12 ms a token). Counted, not timed: the native side
// counts the LLM graphs, those run with several threads and no persistent pool, the pools made and
// the thread-count changes (native/compute.h).
import t from 'tap';
import { ask, loadModel } from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { computeBudget, type SystemView } from '../../lib/threads/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const m = await tinyModels();
const photo = await media.image('jpg');
const idle2 = async (): Promise<SystemView> => ({ cores: 2, quota: null, load1: 0, busy: 0 });
t.teardown(() => computeBudget.setProbe());
// a grammar with no early end: the answer has its full length whatever the random weights say
const q = { maxTokens: 24, temperature: 0, contextSize: 2048, grammar: 'root ::= [a-z]{200}' } as const;

function delta<T extends Record<string, number>>(before: T, after: T): T {
  return Object.fromEntries(Object.keys(before).map((k) => [k, after[k]! - before[k]!])) as T;
}

t.test('the policy: one persistent pool per context, no threads started per token, the count set only when the grant moves', async (t) => {
  computeBudget.setProbe(idle2);
  computeBudget.resetStats();
  const model = await loadModel({ model: m.model, mmproj: m.mmproj });
  t.teardown(() => model.dispose());
  const before = native().computeCounters();
  const r = await ask(photo, 'What is this?', { model, strategy: 'concat', ...q });
  const d = delta(before, native().computeCounters());
  const grants = computeBudget.stats().grants;
  t.equal(r.tokens.generated, q.maxTokens);
  t.same([...new Set(grants)], [2], 'an idle 2-core machine: every call got 2 threads');
  t.ok(d.graphs >= q.maxTokens, `graphs run: ${d.graphs}`);
  t.equal(d.perGraphPool, 0, 'no graph started threads of its own');
  t.ok(d.poolsMade <= 1, `pools made: ${d.poolsMade} (one for the context, not one per token)`);
  t.ok(d.threadChanges <= 1, `thread-count changes: ${d.threadChanges} (the grant never moved)`);
});

t.test('the counters see the per-graph pool (explicit threads, poll auto: what vidlm did before the policy)', async (t) => {
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 2 });
  t.teardown(() => model.dispose());
  const before = native().computeCounters();
  const r = await ask(photo, 'What is this?', { model, strategy: 'concat', ...q });
  const d = delta(before, native().computeCounters());
  t.equal(r.tokens.generated, q.maxTokens);
  t.ok(d.perGraphPool >= q.maxTokens, `graphs that started their own threads: ${d.perGraphPool} of ${d.graphs}`);
  t.equal(d.poolsMade, 0);
});

t.test('explicit poll: a persistent pool, made again only when the thread count moves', async (t) => {
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 2, poll: 0 });
  t.teardown(() => model.dispose());
  const before = native().computeCounters();
  await ask(photo, 'What is this?', { model, strategy: 'concat', ...q });
  const d = delta(before, native().computeCounters());
  t.equal(d.perGraphPool, 0);
  t.equal(d.poolsMade, 1);
  t.equal(d.threadChanges, 0, 'the context was made with 2 threads');
});

// The budget moves a running context between thread counts (two asks at once: 2, then 1, then 2 …).
// Each switch used to free the pool it left, while llama.cpp's CPU backend still pointed at it until
// its next graph paused it: a use after free that hung llama_decode on the freed pool's mutex
// (test/threads/concurrent, about one run in thirty under load). Now a context keeps one pool per
// count until it is disposed, and switching back resumes the paused one.
t.test('a context moved between thread counts reuses its pools: no pool freed while the backend points at it', async (t) => {
  const h = await native().loadModel({ model: m.model, mmproj: m.mmproj, threads: 2, gpuLayers: 0, mmprojGpu: false });
  t.teardown(() => h.dispose());
  const c = await h.createContext({ contextSize: 512, batchSize: 64, threads: 2 });
  t.teardown(() => c.dispose());
  const before = native().computeCounters();
  for (let i = 0; i < 60; i++) {
    c.setCompute(i % 2 ? 1 : 2, 0);
    await c.prefill([{ tokens: Int32Array.of(1 + (i % 50)) }], 0);
  }
  const d = delta(before, native().computeCounters());
  t.equal(d.graphs, 60, 'every prefill ran its graph');
  t.equal(d.poolsMade, 2, 'one pool per thread count, not one per switch');
  t.equal(d.threadChanges, 59, 'the count moved at every graph but the first (made with 2)');
  t.equal(c.size().threads, 1, 'the last count asked for');
});
