// A KV sequence as a value (lib/inference/context.ts Sequence): its operations act on its own sequence of
// its own context, and nothing else.
import t from 'tap';
import { Sequence } from '../../lib/inference/context.js';
import { tinyModel } from './helpers.js';

const model = await tinyModel();
t.teardown(() => model.dispose());

t.test('prefill, nPast, copyTo and truncate act on the sequence they name', async (t) => {
  const ctx = await model.createContext({ contextSize: 512, sequences: 3 });
  t.teardown(() => ctx.dispose());
  const [a, b, c] = [0, 1, 2].map((id) => new Sequence(ctx, id)) as [Sequence, Sequence, Sequence];
  const tokens = ctx.tokenize('one two three four five');
  const r = await a.prefill([{ tokens }], { addBos: false });
  t.equal(r.evaluated, tokens.length, 'the plan is evaluated');
  t.equal(a.nPast, tokens.length, "the sequence's position is what it evaluated");
  t.equal(ctx.nPast(0), tokens.length, 'on its own id of the context');
  t.equal(b.nPast, 0, 'another sequence is untouched');
  await a.copyTo(c);
  t.equal(c.nPast, tokens.length, 'a copy holds the same positions');
  t.equal(b.nPast, 0, 'and only the one it names');
  await a.truncate(2);
  t.equal(a.nPast, 2, 'truncate forgets from its position on');
  t.equal(c.nPast, tokens.length, 'the copy keeps its own');
  const more = await c.prefill([{ text: ' six' }], { addBos: false });
  t.equal(c.nPast, tokens.length + more.evaluated, 'the copy goes on from its end');
  const gen = await c.generate({ maxTokens: 3, temperature: 0 });
  t.ok(gen.tokens.generated > 0, 'generate runs on the sequence');
  t.equal(c.nPast, tokens.length + more.evaluated + gen.tokens.generated, 'its tokens are evaluated on that sequence');
  t.same([a.nPast, b.nPast], [2, 0], 'and on no other');
});

t.test('a sequence outside its context, or copied to another context, is ERR_INVALID_ARG', async (t) => {
  const ctx = await model.createContext({ contextSize: 256, sequences: 2 });
  const other = await model.createContext({ contextSize: 256, sequences: 2 });
  t.teardown(() => { ctx.dispose(); other.dispose(); });
  t.throws(() => new Sequence(ctx, 2), { code: 'ERR_INVALID_ARG' });
  t.throws(() => new Sequence(ctx, -1), { code: 'ERR_INVALID_ARG' });
  t.throws(() => new Sequence(ctx, 0.5), { code: 'ERR_INVALID_ARG' });
  t.throws(() => new Sequence(ctx, 0).copyTo(new Sequence(other, 1)), { code: 'ERR_INVALID_ARG' });
});

t.test("start (the start stage: a rendered prompt's prefix) evaluates a plan as prefill does, an empty plan not at all", async (t) => {
  const ctx = await model.createContext({ contextSize: 512, sequences: 2 });
  t.teardown(() => ctx.dispose());
  const [a, b] = [0, 1].map((id) => new Sequence(ctx, id)) as [Sequence, Sequence];
  const empty = await b.start({ kind: 'plan', plan: [] });
  t.same([empty.evaluated, b.nPast], [0, 0], 'an empty prefix (the question before the video) evaluates nothing');
  const tokens = ctx.tokenize('one two three four');
  const r = await b.start({ kind: 'plan', plan: [{ tokens }] }, { addBos: false });
  t.same([r.evaluated, b.nPast, a.nPast], [tokens.length, tokens.length, 0], 'the plan, on its own sequence only');
  // generation follows the last evaluation on the same sequence: each generates right after its own
  const gb = await b.generate({ maxTokens: 4, temperature: 0 });
  await a.prefill([{ tokens }], { addBos: false });
  const ga = await a.generate({ maxTokens: 4, temperature: 0 });
  t.equal(gb.text, ga.text, 'the KV holds what prefill would have put there: the same answer at temperature 0');
});
