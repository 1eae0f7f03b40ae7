// Issue 11, items 1 and 10: calls that share a native resource run one at a time (the model's
// encoder, a context), so parallel asks on one model and concurrent asks on the forks of one
// chat all answer, and answer what they answer alone.
import t from 'tap';
import { ask, chat } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { frame, tinyModel } from '../inference/helpers.js';

const model = await tinyModel({ cache: false, threads: 1 }); // every ask encodes its frames; one thread: no spinning on a busy machine
t.teardown(() => model.dispose());
const still = await media.image('png');
const greedy = { maxTokens: 4, temperature: 0, contextSize: 256 };

t.test('8 parallel asks x 20 rounds on one model, nothing cached', async (t) => {
  const alone = (await ask(still, 'What is it?', { model, ...greedy })).text;
  let answered = 0;
  for (let round = 0; round < 20; round++) {
    const texts = await Promise.all(Array.from({ length: 8 }, () => ask(still, 'What is it?', { model, ...greedy }).then((r) => r.text)));
    answered += texts.filter((x) => x === alone).length;
  }
  t.equal(answered, 160, 'all 160 asks give the answer of one ask alone');
});

t.test('two model.encode() at once and two asks on a clip at once', async (t) => {
  const frames = Array.from({ length: 6 }, (_, k) => frame(k));
  const [a, b] = await Promise.all([model.encode(frames), model.encode(frames)]);
  t.same(a.map((g) => Array.from(g.data.subarray(0, 8))), b.map((g) => Array.from(g.data.subarray(0, 8))), 'the same tokens');
  const clip = await media.h264();
  const [x, y] = await Promise.all([ask(clip, 'What happens?', { model, strategy: 'concat', ...greedy, contextSize: 1024 }),
    ask(clip, 'What happens?', { model, strategy: 'concat', ...greedy, contextSize: 1024 })]);
  t.equal(x.text, y.text);
});

t.test('concurrent asks on the root of a chat and its forks', async (t) => {
  const c = await chat(still, { model, contextSize: 512 });
  t.equal(c.context.sequences, 4, 'chat() makes room for three forks');
  const forks = await Promise.all([c.fork(), c.fork(), c.fork()]);
  const turns = await Promise.all([c, ...forks].map((x) => x.ask('What is it?', { maxTokens: 4, temperature: 0 }).turn));
  t.equal(new Set(turns.map((r) => r.text)).size, 1, 'the same question from the same point gives the same answer');
  t.ok(turns.every((r) => r.tokens.generated > 0));
  // two more turns on each, all at once: every chat's own order is kept
  const second = await Promise.all([c, ...forks].flatMap((x) => [x.ask('And then?', { maxTokens: 2, temperature: 0 }).turn, x.ask('Why?', { maxTokens: 2, temperature: 0 }).turn]));
  t.equal(second.length, 8);
  t.same([c, ...forks].map((x) => x.history.map((m) => m.role).slice(-6)), Array(4).fill(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']));
  await Promise.all(forks.map((f) => f.dispose()));
  await c.dispose();
});
