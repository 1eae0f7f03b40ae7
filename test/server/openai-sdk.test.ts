// The official `openai` npm client against `vidlm serve` on 127.0.0.1: what Open WebUI,
// LangChain and scripts send.
import t from 'tap';
import OpenAI from 'openai';
import { mediaDir, startServer } from './helpers.js';

const md = await mediaDir();
t.teardown(md.cleanup);
const { server, url } = await startServer({ parallel: 2, mediaPath: md.dir, apiKey: 'test-key' });
t.teardown(() => server.close());
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'test-key', maxRetries: 0 });
const video = { type: 'video_url', video_url: { url: `file://${md.clip}` } } as const;
// the SDK's types know image_url; video_url goes through as vLLM clients send it
const userTurn = (text: string) => ({ role: 'user' as const, content: [video, { type: 'text', text }] as never });

t.test('models.list', async (t) => {
  const list = await client.models.list();
  t.same(list.data.map((m) => m.id), [server.modelId]);
});

t.test('chat.completions.create with a video_url part, non-streaming', async (t) => {
  const r = await client.chat.completions.create({ model: server.modelId, messages: [userTurn('What happens?')], max_tokens: 5, temperature: 0 });
  t.equal(r.object, 'chat.completion');
  t.equal(r.choices[0]!.finish_reason, 'length');
  t.type(r.choices[0]!.message.content, 'string');
  t.equal(r.usage!.completion_tokens, 5);
  t.ok(r.usage!.prompt_tokens > 512);
});

t.test('streaming with include_usage', async (t) => {
  const stream = await client.chat.completions.create({ model: server.modelId, messages: [userTurn('Stream it.')], max_tokens: 5, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let text = '', finish: string | null = null, usage: OpenAI.CompletionUsage | undefined, n = 0;
  for await (const chunk of stream) {
    n++;
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  t.ok(n >= 3, `${n} chunks`);
  t.equal(finish, 'length');
  t.equal(usage?.completion_tokens, 5);
  t.ok(text.length > 0);
});

t.test('response_format json_schema gives JSON that follows the schema', async (t) => {
  const r = await client.chat.completions.create({
    model: server.modelId, messages: [userTurn('Is something moving?')], max_tokens: 64, temperature: 0,
    response_format: { type: 'json_schema', json_schema: { name: 'answer', strict: true, schema: { type: 'object', properties: { moving: { type: 'boolean' } }, required: ['moving'], additionalProperties: false } } },
  });
  const parsed = JSON.parse(r.choices[0]!.message.content!);
  t.type(parsed.moving, 'boolean');
  t.same(Object.keys(parsed), ['moving']);
});

t.test('a follow-up turn: cached_tokens > 0 and nothing encoded', async (t) => {
  const messages: OpenAI.ChatCompletionMessageParam[] = [userTurn('What is on screen?')];
  const first = await client.chat.completions.create({ model: server.modelId, messages, max_tokens: 4, temperature: 0 });
  messages.push({ role: 'assistant', content: first.choices[0]!.message.content }, { role: 'user', content: 'Anything else?' });
  const second = await client.chat.completions.create({ model: server.modelId, messages, max_tokens: 4, temperature: 0 });
  const cached = second.usage!.prompt_tokens_details!.cached_tokens!;
  t.ok(cached > 0, `cached_tokens ${cached}`);
  t.ok(cached >= first.usage!.prompt_tokens - 1, 'the whole first prompt came from the slot');
  const ext = (second as unknown as { vidlm: { media: { encoded: number; cached: number }[] } }).vidlm;
  t.equal(ext.media[0]!.encoded, 0, 'encode count 0');
  t.equal(ext.media[0]!.cached, 8);
});

t.test('errors arrive as the SDK\'s typed errors', async (t) => {
  const bad = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'wrong', maxRetries: 0 });
  await t.rejects(bad.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }), { status: 401, code: 'invalid_api_key' });
  await t.rejects(client.chat.completions.create({ model: server.modelId, messages: [{ role: 'user', content: 'hi' }], n: 2 }), { status: 400, code: 'unsupported_parameter', param: 'n' });
  await t.rejects(client.chat.completions.create({ model: server.modelId, messages: [{ role: 'user', content: [{ type: 'video_url', video_url: { url: 'file:///etc/passwd' } }] as never }] }), { status: 403, code: 'path_outside_media_path' });
});
