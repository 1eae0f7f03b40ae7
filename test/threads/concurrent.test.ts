// Threads under the policy on the LLaVA and M-RoPE tiny pairs: the native side takes a call's
// count (LLM and libmtmd's encoder), and concurrent asks share one budget of compute threads.
import t from 'tap';
import { ask, loadModel } from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { computeBudget, type SystemView } from '../../lib/threads/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const m = await tinyModels();
const clip = await media.h264();
const machine = (v: Partial<SystemView>) => async (): Promise<SystemView> => ({ cores: 2, quota: null, load1: 0, busy: 0, ...v });
t.teardown(() => computeBudget.setProbe());
const llava = await loadModel({ model: m.model, mmproj: m.mmproj });
const mrope = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj });
t.teardown(() => { llava.dispose(); mrope.dispose(); });
// short answers: on the shared test machine a call given 2 threads beside other work is the slow case this policy avoids
const q = { maxTokens: 8, temperature: 0, contextSize: 2048 } as const;
const fixed = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1, poll: 0 });
t.teardown(() => fixed.dispose());

t.test('native: setCompute changes the threads llama.cpp runs the next graphs with', async (t) => {
  const h = await native().loadModel({ model: m.model, mmproj: m.mmproj, threads: 2, gpuLayers: 0, mmprojGpu: false });
  t.teardown(() => h.dispose());
  t.equal(h.info().encoderThreadsPerCall, true, "vidlm's mirror of libmtmd's context matches the pinned tree: encoder threads per call");
  const c = await h.createContext({ contextSize: 256, batchSize: 64, threads: 2 });
  t.equal(c.size().threads, 2);
  c.setCompute(1, -1);
  await c.prefill([{ tokens: Int32Array.of(1, 2, 3) }], 0);
  t.equal(c.size().threads, 1, 'applied at the next decode');
  c.setCompute(2, 0);
  await c.prefill([{ tokens: Int32Array.of(4, 5) }], 0);
  t.equal(c.size().threads, 2, 'with a persistent pool polling at level 0');
  const g = await c.generate({ maxTokens: 3, temperature: 0 }, 0, () => {});
  t.equal(g.generated, 3, 'generation runs on the attached pool');
  t.throws(() => c.setCompute(0, -1), { code: 'ERR_INVALID_ARG' });
  t.throws(() => c.setCompute(2, 101), { code: 'ERR_INVALID_ARG' });
  t.throws(() => h.setCompute(-3, -1), { code: 'ERR_INVALID_ARG' });
  c.dispose();
});

t.test('options: threads and poll are checked', async (t) => {
  await t.rejects(loadModel({ model: m.model, mmproj: m.mmproj, threads: 0 }), { code: 'ERR_INVALID_ARG', details: { option: 'threads' } });
  await t.rejects(loadModel({ model: m.model, mmproj: m.mmproj, threads: 'all' as never }), { code: 'ERR_INVALID_ARG' });
  await t.rejects(loadModel({ model: m.model, mmproj: m.mmproj, poll: 150 }), { code: 'ERR_INVALID_ARG', details: { option: 'poll' } });
  await t.rejects(loadModel({ model: m.model, mmproj: m.mmproj, poll: 1.5 }), { code: 'ERR_INVALID_ARG' });
});


t.test('two concurrent asks on a 2-core machine: their threads add up to no more than the budget', async (t) => {
  t.equal(mrope.native.encoderThreadsPerCall, true, 'the M-RoPE pair\'s encoder takes its threads per call too');
  computeBudget.setProbe(machine({}));
  computeBudget.resetStats();
  const [a, b] = await Promise.all([
    ask(clip, 'What happens?', { model: llava, strategy: 'concat', ...q }),
    ask(clip, 'What happens?', { model: mrope, ...q }),
  ]);
  const s = computeBudget.stats();
  t.equal(s.budget, 2);
  // leases: compute calls and decoding calls; the first ask alone decodes beside its encoder (lib/pipeline/overlap.ts),
  // so a third lease (its decoding) can be held beside the two asks' compute calls
  t.ok(s.peakLeases >= 2, `the two ran at the same time: ${s.peakLeases} leases at once`);
  t.ok(s.peakComputeInUse <= 2, `compute threads in use at once: ${s.peakComputeInUse}, budget 2`);
  t.ok(s.grants.every((g) => g >= 1 && g <= 2), `grants ${s.grants.join(',')}`);
  t.ok(s.grants.includes(1), 'a call that came while another ran got its share, not every core');
  const alone = await ask(clip, 'What happens?', { model: fixed, strategy: 'concat', ...q });
  t.equal(a.text, alone.text, 'the answer does not depend on the threads (temperature 0)');
  t.equal(b.tokens.generated, q.maxTokens);
  t.equal(s.inUse, 0, 'every lease returned');
});

t.test('beside a CPU hog on both cores: one thread, and a second call waits its turn', async (t) => {
  computeBudget.setProbe(machine({ busy: 2 }));
  computeBudget.resetStats();
  await Promise.all([
    ask(clip, 'What happens?', { model: llava, strategy: 'pllava', ...q }),
    ask(clip, 'What happens?', { model: mrope, ...q }),
  ]);
  const s = computeBudget.stats();
  t.equal(s.budget, 1);
  t.equal(s.peakComputeInUse, 1, 'never two compute threads on the one free core');
  t.same([...new Set(s.grants)], [1]);
});

t.test('explicit threads bypass the budget', async (t) => {
  computeBudget.setProbe(machine({}));
  computeBudget.resetStats();
  const r = await ask(clip, 'What happens?', { model: fixed, strategy: 'concat', ...q });
  t.equal(r.tokens.generated, q.maxTokens);
  t.same(computeBudget.stats().grants, [], 'no lease taken');
});
