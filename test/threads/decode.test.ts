// FFmpeg's decoding threads are counted in the process's compute budget (issue 26): without an
// explicit `threads`, a video's decoder takes the budget's free threads when its first walk starts,
// and each decoding call holds a lease, so a compute call beside it gets what is left.
import t from 'tap';
import { ask, loadModel, openVideo } from '../../lib/index.js';
import { computeBudget, type SystemView } from '../../lib/threads/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const m = await tinyModels();
const clip = await media.h264();
const machine = (v: Partial<SystemView>) => async (): Promise<SystemView> => ({ cores: 2, quota: null, load1: 0, busy: 0, ...v });
t.teardown(() => computeBudget.setProbe());

t.test('openVideo without threads: each decoding call holds a lease of the budget', async (t) => {
  computeBudget.setProbe(machine({}));
  computeBudget.resetStats();
  const v = await openVideo(clip);
  t.teardown(() => v.close());
  const frames = await v.sample({ uniform: 4 });
  t.equal(frames.length, 4);
  const s = computeBudget.stats();
  t.ok(s.decodeGrants.length >= 1, `decoding leases: ${s.decodeGrants.join(',')}`);
  t.ok(s.decodeGrants.every((g) => g >= 1 && g <= 2));
  t.same(s.grants, [], 'no compute lease');
  t.equal(s.inUse, 0, 'every lease returned');
});

t.test('explicit decoder threads stay outside the budget', async (t) => {
  computeBudget.setProbe(machine({}));
  computeBudget.resetStats();
  const v = await openVideo(clip, { threads: 0 });
  t.teardown(() => v.close());
  await v.sample({ uniform: 4 });
  t.same(computeBudget.stats().decodeGrants, []);
});

t.test('one free core: the asks\' compute calls take turns on it, decoding runs beside them', async (t) => {
  computeBudget.setProbe(machine({ busy: 1 }));
  computeBudget.resetStats();
  const model = await loadModel({ model: m.model, mmproj: m.mmproj });
  t.teardown(() => model.dispose());
  const q = { model, strategy: 'concat', maxTokens: 4, temperature: 0, contextSize: 2048 } as const;
  await Promise.all([ask(clip, 'What happens?', q), ask(clip, 'What now?', q)]);
  const s = computeBudget.stats();
  t.equal(s.budget, 1);
  t.ok(s.decodeGrants.length >= 2, 'both asks decoded under leases');
  t.equal(s.peakComputeInUse, 1, 'never two compute threads on the one free core (a spinning graph would collapse)');
  t.ok(s.peakLeases <= 2, `decoding fills at most the 2 cores beside them: ${s.peakLeases} leases at once`);
  t.equal(s.inUse, 0);
});
