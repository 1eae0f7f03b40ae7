// The chaos test with a fixed seed, in the suite: random sequences of API calls never end the
// process, every rejection is a documented VidlmError, and the model answers the same after.
// Longer: npm run test:chaos -- --runs N [--seed S].
import t from 'tap';
// @ts-expect-error: a plain ESM script without types
import { chaos } from './run.mjs';

t.test('40 random programs (seed 11)', (t) => {
  const r = (chaos as (o: { runs: number; seed: number }) => { runs: number; expected: string })({ runs: Number(process.env.VIDLM_CHAOS_RUNS ?? 40), seed: 11 });
  t.ok(r.runs >= 1, `${r.runs} programs ran`);
  t.end();
});
