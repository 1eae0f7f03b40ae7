// The protocol's gaps (#29 item 5): an unknown model id is 404 model_not_found (the served id, the
// alias, and the model file's own name are accepted), and system_fingerprint is a string in
// answers and stream chunks, as OpenAI's schema has it.
import t from 'tap';
import { basename } from 'node:path';
import { post, sseData, startServer } from './helpers.js';

const { server, url } = await startServer({ parallel: 1, modelId: 'my-alias' });
t.teardown(() => server.close());
const ask = (model?: string, extra: object = {}) => post(url, { ...(model === undefined ? {} : { model }), messages: [{ role: 'user', content: 'hi' }], max_tokens: 1, ...extra });

t.test('an unknown model id is 404 model_not_found; the served ids are answered', async (t) => {
  const r = await ask('gpt-4o');
  t.equal(r.status, 404, JSON.stringify(r.json));
  t.equal(r.json.error.code, 'model_not_found');
  t.equal(r.json.error.param, 'model');
  t.equal(r.json.error.type, 'invalid_request_error');
  const file = basename(server.model.paths.model);
  for (const id of ['my-alias', file, file.replace(/\.gguf$/, ''), undefined]) t.equal((await ask(id)).status, 200, `model ${String(id)}`);
});

t.test('system_fingerprint is a string, the same in answers and stream chunks', async (t) => {
  const r = await ask('my-alias');
  t.type(r.json.system_fingerprint, 'string');
  t.match(r.json.system_fingerprint, /^fp_[0-9a-f]{12}$/);
  const s = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'my-alias', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, stream: true, stream_options: { include_usage: true } }) });
  const chunks = sseData(await s.text()).filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as { system_fingerprint: unknown });
  t.ok(chunks.length >= 2);
  t.ok(chunks.every((c) => c.system_fingerprint === r.json.system_fingerprint), 'every chunk carries the same fingerprint');
});
