// Tools through llama.cpp's chat code (#29 item 5): a forced call (`required`, a named function)
// is generated under llama.cpp's grammar, so even the tiny random-weight model answers with a call
// whose arguments parse and fit the function's schema; streamed calls arrive as OpenAI's deltas
// and reassemble to the same call; tool results in the history are rendered; bad shapes are 400.
// The tiny models' own templates render no tools (llama.cpp then has no tool format for them): the
// server gets a Qwen2.5-style template that does (--chat-template-file), as a user of such a model would.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mediaDir, post, spawnServer, sseData, startServer, videoTurn } from './helpers.js';

const chatTemplate = readFileSync(new URL('../fixtures/tools-template.jinja', import.meta.url), 'utf8');
const md = await mediaDir();
const { server, url } = await startServer({ parallel: 1, mediaPath: md.dir, chatTemplate });
t.teardown(async () => { await server.close(); md.cleanup(); });

const weather = {
  type: 'function', function: {
    name: 'get_weather', description: 'The forecast for a city',
    parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Oslo'] }, days: { type: 'integer', minimum: 1, maximum: 7 } }, required: ['city', 'days'], additionalProperties: false },
  },
};
const time = {
  type: 'function', function: {
    name: 'get_time', description: 'The time in a zone',
    parameters: { type: 'object', properties: { zone: { type: 'string', enum: ['UTC', 'CET'] } }, required: ['zone'], additionalProperties: false },
  },
};
const ask = (extra: object) => post(url, { messages: [{ role: 'user', content: 'Weather in Paris for 3 days?' }], max_tokens: 300, temperature: 0, ...extra });

/** The arguments checked by hand against the schemas above. */
function checkArgs(t: Test, name: string, args: string) {
  const a = JSON.parse(args) as Record<string, unknown>;
  if (name === 'get_weather') {
    t.same(Object.keys(a).sort(), ['city', 'days'], 'exactly the schema\'s keys');
    t.ok(['Paris', 'Oslo'].includes(a.city as string), `city ${String(a.city)} is in the enum`);
    t.ok(Number.isInteger(a.days) && (a.days as number) >= 1 && (a.days as number) <= 7, `days ${String(a.days)} is an integer in 1..7`);
  } else {
    t.same(Object.keys(a), ['zone']);
    t.ok(['UTC', 'CET'].includes(a.zone as string), `zone ${String(a.zone)} is in the enum`);
  }
}

t.test('tool_choice "required": a call whose arguments parse and fit the schema', async (t) => {
  const r = await ask({ tools: [weather], tool_choice: 'required' });
  t.equal(r.status, 200, JSON.stringify(r.json));
  const choice = r.json.choices[0];
  t.equal(choice.finish_reason, 'tool_calls');
  t.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  t.equal(call.type, 'function');
  t.match(call.id, /^\S+$/);
  t.equal(call.function.name, 'get_weather');
  checkArgs(t, call.function.name, call.function.arguments);
});

t.test('a named function: that function is called', async (t) => {
  const r = await ask({ tools: [weather, time], tool_choice: { type: 'function', function: { name: 'get_time' } } });
  t.equal(r.status, 200, JSON.stringify(r.json));
  const call = r.json.choices[0].message.tool_calls[0];
  t.equal(call.function.name, 'get_time');
  checkArgs(t, 'get_time', call.function.arguments);
});

t.test('streamed calls arrive as deltas (id and name first, then arguments) and reassemble to the answer\'s call', async (t) => {
  const whole = await ask({ tools: [weather], tool_choice: 'required' });
  const s = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Weather in Paris for 3 days?' }], max_tokens: 300, temperature: 0, tools: [weather], tool_choice: 'required', stream: true }),
  });
  t.equal(s.status, 200);
  const chunks = sseData(await s.text()).filter((d) => d !== '[DONE]').map((d) => JSON.parse(d));
  const deltas = chunks.flatMap((c) => c.choices.map((ch: { delta: { tool_calls?: unknown[] } }) => ch.delta.tool_calls ?? [])).flat() as Array<{ index: number; id?: string; function: { name?: string; arguments: string } }>;
  t.ok(deltas.length >= 3, `${deltas.length} tool call deltas: the name, then the arguments in more than one piece`);
  t.equal(deltas[0]!.index, 0);
  t.equal(deltas[0]!.function.name, 'get_weather', 'the first delta names the function');
  t.ok(deltas[0]!.id, 'and carries the id');
  t.ok(deltas.slice(1).every((d) => d.id === undefined && d.function.name === undefined), 'later deltas carry only arguments');
  const args = deltas.map((d) => d.function.arguments).join('');
  t.equal(args, whole.json.choices[0].message.tool_calls[0].function.arguments, 'the pieces make the non-streamed call\'s arguments');
  checkArgs(t, 'get_weather', args);
  t.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls');
});

t.test('tool calls and results in the history are rendered', async (t) => {
  const history = (result: string, args = '{"city":"Paris","days":3}') => [
    { role: 'user', content: 'Weather in Paris for 3 days?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: args } }] },
    { role: 'tool', tool_call_id: 'call_1', content: result },
  ];
  const short = await post(url, { messages: history('sunny'), tools: [weather], max_tokens: 1 });
  const long = await post(url, { messages: history('sunny, 21 degrees, light wind from the west, no rain expected'), tools: [weather], max_tokens: 1 });
  const none = await post(url, { messages: history('sunny').slice(0, 1), tools: [weather], max_tokens: 1 });
  t.equal(short.status, 200, JSON.stringify(short.json));
  t.equal(long.status, 200);
  t.ok(long.json.usage.prompt_tokens > short.json.usage.prompt_tokens, `the tool result is in the prompt (${long.json.usage.prompt_tokens} > ${short.json.usage.prompt_tokens})`);
  const longCall = await post(url, { messages: history('sunny', '{"city":"Paris","days":3,"note":"and the week after, with hourly detail"}'), tools: [weather], max_tokens: 1 });
  t.ok(longCall.json.usage.prompt_tokens > short.json.usage.prompt_tokens, `the assistant's call is in the prompt (${longCall.json.usage.prompt_tokens} > ${short.json.usage.prompt_tokens})`);
  t.ok(short.json.usage.prompt_tokens > none.json.usage.prompt_tokens, `the call and its result are in the prompt (${short.json.usage.prompt_tokens} > ${none.json.usage.prompt_tokens})`);
  // without `tools` too: a history with calls renders through the tool-aware template
  const plain = await post(url, { messages: history('sunny'), max_tokens: 1 });
  t.equal(plain.status, 200, JSON.stringify(plain.json));
});

t.test('tools with a video: the media goes in as without tools, the call is forced', async (t) => {
  const r = await post(url, { messages: [videoTurn('clip.mp4', 'Weather?')], tools: [weather], tool_choice: 'required', max_tokens: 300, temperature: 0, vidlm: { frames: 2 } });
  t.equal(r.status, 200, JSON.stringify(r.json));
  t.ok(r.json.vidlm.media[0].visual_tokens > 0, 'the video was evaluated');
  const call = r.json.choices[0].message.tool_calls[0];
  t.equal(call.function.name, 'get_weather');
  checkArgs(t, 'get_weather', call.function.arguments);
});

t.test('bad tool shapes are 400 with the param named, never 5xx', async (t) => {
  const cases: Array<[object, string | null]> = [
    [{ tools: {} }, null],
    [{ tools: [{ type: 'function' }] }, 'tools[0].function'],
    [{ tools: [{ type: 'retrieval', function: { name: 'a' } }] }, 'tools[0].type'],
    [{ tools: [{ type: 'function', function: { name: 'has space' } }] }, 'tools[0].function.name'],
    [{ tools: [{ type: 'function', function: { name: 'a', parameters: 'object' } }] }, 'tools[0].function.parameters'],
    [{ tools: [weather, weather] }, 'tools[1].function.name'],
    [{ tools: [weather], tool_choice: 'sometimes' }, 'tool_choice'],
    [{ tools: [weather], tool_choice: { type: 'function', function: { name: 'nope' } } }, 'tool_choice.function.name'],
    [{ tool_choice: 'required' }, 'tool_choice'],
    [{ tools: [weather], parallel_tool_calls: 'yes' }, null],
    [{ tools: [weather], tool_choice: 'required', response_format: { type: 'json_object' } }, 'response_format'],
    [{ messages: [{ role: 'user', content: 'x' }, { role: 'tool', content: 'r' }] }, 'messages[1].tool_call_id'],
    [{ messages: [{ role: 'user', content: 'x', tool_calls: [] }] }, 'messages[0].tool_calls'],
    [{ messages: [{ role: 'user', content: 'x' }, { role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'a', arguments: '{not json' } }] }, { role: 'user', content: 'y' }] }, 'messages[1].tool_calls[0].function.arguments'],
    [{ messages: [{ role: 'user', content: 'x' }, { role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'a' } }] }, { role: 'user', content: 'y' }] }, 'messages[1].tool_calls[0].function.arguments'],
  ];
  for (const [extra, param] of cases) {
    const r = await ask(extra);
    t.equal(r.status, 400, `${JSON.stringify(extra)} → ${JSON.stringify(r.json)}`);
    t.equal(r.json.error?.type, 'invalid_request_error');
    if (param) t.equal(r.json.error.param, param, JSON.stringify(extra));
  }
  t.equal((await ask({ tools: [weather], tool_choice: 'required', max_tokens: 1 })).status, 200, 'the server still answers');
});

t.test('a template that renders no tools: 400 unsupported_value, not a silent answer without them', async (t) => {
  const plain = await startServer({ parallel: 1 });
  t.teardown(() => plain.server.close());
  const r = await post(plain.url, { messages: [{ role: 'user', content: 'x' }], tools: [weather], tool_choice: 'required', max_tokens: 4 });
  t.equal(r.status, 400, JSON.stringify(r.json));
  t.equal(r.json.error.code, 'unsupported_value');
  t.equal(r.json.error.param, 'tools');
  t.equal((await post(plain.url, { messages: [{ role: 'user', content: 'x' }], tools: [weather], tool_choice: 'none', max_tokens: 1 })).status, 200, 'tool_choice none needs no tool format');
});

t.test('vidlm serve --chat-template-file: the CLI serves tools with the template it reads', async (t) => {
  const cli = await spawnServer(['--chat-template-file', fileURLToPath(new URL('../fixtures/tools-template.jinja', import.meta.url))]);
  t.teardown(() => cli.stop());
  const r = await post(cli.url, { messages: [{ role: 'user', content: 'Weather?' }], tools: [weather], tool_choice: 'required', max_tokens: 300, temperature: 0 });
  t.equal(r.status, 200, JSON.stringify(r.json));
  checkArgs(t, 'get_weather', r.json.choices[0].message.tool_calls[0].function.arguments);
});

t.test('the M-RoPE pair (tiny Qwen2-VL): a forced call with a video on the native path', async (t) => {
  const { tinyModels } = await import('../fixtures/tiny-models.js');
  const m = await tinyModels();
  const q = await startServer({ model: { model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 }, mediaPath: md.dir, chatTemplate });
  t.teardown(() => q.server.close());
  const r = await post(q.url, { messages: [videoTurn('clip.mp4', 'Weather?')], tools: [weather], tool_choice: 'required', max_tokens: 300, temperature: 0, vidlm: { frames: 2 } });
  t.equal(r.status, 200, JSON.stringify(r.json));
  t.ok(r.json.vidlm.media[0].visual_tokens > 0, 'the video was evaluated');
  // this model goes on to a second call (llama.cpp's grammar allows several): without
  // parallel_tool_calls the answer ends there with one call, not at max_tokens
  t.equal(r.json.choices[0].finish_reason, 'tool_calls');
  t.equal(r.json.choices[0].message.tool_calls.length, 1);
  checkArgs(t, 'get_weather', r.json.choices[0].message.tool_calls[0].function.arguments);
});

t.test('the openai client reassembles the streamed call (ChatCompletionStream) to the non-streamed one', async (t) => {
  const { default: OpenAI } = await import('openai');
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'none', maxRetries: 0 });
  const body = { model: server.modelId, messages: [{ role: 'user' as const, content: 'Weather in Paris for 3 days?' }], max_tokens: 300, temperature: 0, tools: [weather as never], tool_choice: 'required' as const };
  const whole = await client.chat.completions.create(body);
  const final = await client.chat.completions.stream(body).finalChatCompletion();
  const [a, b] = [whole.choices[0]!.message.tool_calls![0]!, final.choices[0]!.message.tool_calls![0]!] as Array<{ id: string; function: { name: string; arguments: string } }>;
  t.equal(b.function.name, a.function.name);
  t.equal(b.function.arguments, a.function.arguments);
  t.equal(final.choices[0]!.finish_reason, 'tool_calls');
  checkArgs(t, 'get_weather', b.function.arguments);
});
