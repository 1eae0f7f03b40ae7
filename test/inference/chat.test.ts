import t from 'tap';
import { frame, tinyModel } from './helpers.js';

const model = await tinyModel();
t.teardown(() => model.dispose());
const grids = await model.encode(Array.from({ length: 4 }, (_, k) => frame(k)));
const video = grids.map((g) => ({ embeddings: g.data, count: g.nx * g.ny }));

t.test('the video is evaluated once; each question evaluates only its own tokens', async (t) => {
  const chat = await model.chat(video, { system: 'Answer briefly.', contextOptions: { contextSize: 1024 } });
  const afterVideo = chat.context.nPast(0);
  t.ok(afterVideo >= 4 * 64, `the video prefix is in the cache (${afterVideo} positions)`);

  const t1 = await chat.ask('What happens?', { maxTokens: 6, temperature: 0 }).turn;
  const rest1 = chat.context.tokenize('\nWhat happens?\nASSISTANT:').length;
  t.equal(t1.evaluated, rest1, 'the first question evaluates the text after the video only');

  const historyBefore = [...chat.history];
  const t2 = await chat.ask('And then?', { maxTokens: 6, temperature: 0 }).turn;
  const delta = model.formatTurn(historyBefore, { role: 'user', content: 'And then?' });
  t.equal(t2.evaluated, chat.context.tokenize(delta).length, 'a follow-up evaluates only its formatted turn');
  t.ok(t2.evaluated < 30, `${t2.evaluated} tokens, not the video again`);
  // every generated token is evaluated (an end-of-sequence token is neither counted nor evaluated)
  t.equal(t2.stopReason, 'maxTokens');
  t.equal(t2.nPast, t1.nPast + t2.evaluated + t2.tokens.generated, 'positions: the first turn, the question, the answer');
  t.equal(chat.context.nPast(0), t2.nPast);
  t.same(chat.history.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant']);
  t.equal(chat.history[1]!.content, `${model.mediaMarker}\nWhat happens?`);
});

t.test('one-shot and chat give the same first answer', async (t) => {
  const chat = await model.chat(video, { contextOptions: { contextSize: 1024 } });
  const viaChat = await chat.ask('Describe it.', { maxTokens: 8, temperature: 0 });
  const ctx = await model.createContext({ contextSize: 1024 });
  const prompt = model.applyTemplate([{ role: 'user', content: `${model.mediaMarker}\nDescribe it.` }]);
  const [a, b] = prompt.split(model.mediaMarker) as [string, string];
  await ctx.prefill([{ text: a }, ...video, { text: b }]);
  t.equal(viaChat.text, (await ctx.generate({ maxTokens: 8, temperature: 0 })).text);
});

t.test('fork asks from the same point without evaluating the video again', async (t) => {
  const chat = await model.chat(video, { contextOptions: { contextSize: 1024, sequences: 3 } });
  const fork = await chat.fork();
  t.equal(fork.context.nPast(fork.sequence), chat.context.nPast(0), 'the fork starts where the chat is');
  const [a, b] = [await chat.ask('Who is there?', { maxTokens: 6, temperature: 0 }).turn, await fork.ask('Who is there?', { maxTokens: 6, temperature: 0 }).turn];
  t.equal(a.text, b.text, 'the same question from the same prefix, the same answer');
  t.equal(b.evaluated, a.evaluated, 'the fork evaluated only the question');
  const c = await fork.ask('Why?', { maxTokens: 4, temperature: 0 }).turn;
  t.ok(c.evaluated < 20);
  const g2 = await chat.fork();
  await t.rejects(chat.fork(), { code: 'ERR_CONTEXT_CREATE', details: { sequences: 3, inUse: 3 } }, 'no third fork on three sequences');
  await g2.dispose();
  const g3 = await chat.fork();
  t.ok(g3.sequence > 0, 'a disposed fork gives its sequence back');
});

t.test('misuse of state is ERR_INVALID_STATE, not an argument error', async (t) => {
  const ctx = await model.createContext({ contextSize: 1024 });
  t.teardown(() => ctx.dispose());
  await ctx.prefill([{ text: 'Hello' }]);
  await t.rejects(model.chat(video, { context: ctx }), { code: 'ERR_INVALID_STATE', details: { nPast: ctx.nPast(0) } }, 'a chat on a used context');
});
