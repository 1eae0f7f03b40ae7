// applyTemplateAsync: the same prompt as applyTemplate, rendered on a worker thread (the server
// renders each request with it), at once from many callers, across dispose, with coded errors.
import t from 'tap';
import { tinyModel } from './helpers.js';

const model = await tinyModel();
t.teardown(() => model.dispose());
const m = model.mediaMarker;

const conversations = [
  [{ role: 'user', content: `${m}\nWhat is in the image?` }],
  [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: `${m}${m}\nCompare.` }, { role: 'assistant', content: 'Two frames.' }, { role: 'user', content: 'And the colour?' }],
  [{ role: 'user', content: 'ünïcödé ✓ — 日本語' }],
];

t.test('the same text as the synchronous call, for each conversation and both addAssistant values', async (t) => {
  for (const c of conversations) {
    for (const addAssistant of [true, false]) t.equal(await model.applyTemplateAsync(c, { addAssistant }), model.applyTemplate(c, { addAssistant }));
  }
});

t.test('32 calls at once each get their own prompt', async (t) => {
  const asks = Array.from({ length: 32 }, (_, i) => [{ role: 'user', content: `${m}\nQuestion ${i}` }]);
  const got = await Promise.all(asks.map((c) => model.applyTemplateAsync(c)));
  t.same(got, asks.map((c) => model.applyTemplate(c)));
});

t.test('bad input: coded errors, thrown or rejected, the model still usable', async (t) => {
  t.throws(() => model.applyTemplateAsync('nope' as never), { code: 'ERR_INVALID_ARG' });
  t.throws(() => model.applyTemplateAsync([{ role: 'user' }] as never), { code: 'ERR_INVALID_ARG' });
  await t.rejects(model.applyTemplateAsync([{ role: 'user', content: 'hi' }], { template: '{{ raise_exception("no such role") }}' }), { code: 'ERR_TEMPLATE', message: /no such role/ }, "llama.cpp's engine failing on the worker thread");
  t.equal(await model.applyTemplateAsync(conversations[0]!), model.applyTemplate(conversations[0]!));
});

t.test('dispose while renders run: they finish, later calls get ERR_DISPOSED', async (t) => {
  const other = await tinyModel();
  const running = Array.from({ length: 8 }, (_, i) => other.applyTemplateAsync([{ role: 'user', content: `q${i}` }]));
  const expected = Array.from({ length: 8 }, (_, i) => model.applyTemplate([{ role: 'user', content: `q${i}` }]));
  other.dispose();
  t.same(await Promise.all(running), expected, 'the calls hold the model until they are done');
  t.throws(() => other.applyTemplateAsync([{ role: 'user', content: 'late' }]), { code: 'ERR_DISPOSED' });
});
