// POST /v1/chat/completions with fetch: answers, streaming, usage, content parts, prefix reuse.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { mediaDir, post, sseData, startServer, videoTurn } from './helpers.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const md = await mediaDir();
t.teardown(md.cleanup);
const { server, url } = await startServer({ parallel: 2, mediaPath: md.dir });
t.teardown(() => server.close());
const greedy = { temperature: 0, max_tokens: 6 };
// The tiny model's prompt by hand: the 8 × 8 encoder grid gives 64 tokens a frame, concat keeps all.
const VISUAL = 8 * 64;

t.test('a video_url answer: OpenAI shape, usage, finish_reason and the vidlm extension', async (t) => {
  const r = await post(url, { messages: [videoTurn('clip.mp4')], ...greedy });
  t.equal(r.status, 200, JSON.stringify(r.json));
  const j = r.json;
  t.equal(j.object, 'chat.completion');
  t.match(j.id, /^chatcmpl-/);
  t.equal(j.model, server.modelId);
  t.equal(j.choices.length, 1);
  t.equal(j.choices[0].message.role, 'assistant');
  t.type(j.choices[0].message.content, 'string');
  t.equal(j.choices[0].finish_reason, 'length', 'six tokens asked, six generated: the length ran out');
  t.equal(j.usage.completion_tokens, 6);
  t.equal(j.usage.total_tokens, j.usage.prompt_tokens + 6);
  t.ok(j.usage.prompt_tokens > VISUAL && j.usage.prompt_tokens < VISUAL + 64, `prompt ${j.usage.prompt_tokens}: 512 visual tokens and the template's text`);
  const m = j.vidlm.media[0];
  t.equal(m.strategy, 'concat');
  t.equal(m.visual_tokens, VISUAL);
  t.same(m.frames.map((f: { index: number }) => f.index), [0, 17, 34, 51, 68, 85, 102, 119], 'Video-LLaVA: linspace(0, 119, 8, dtype=int)');
  t.equal(m.duration, 4);
});

t.test('streaming gives the same answer in chunks, ends with [DONE], and honours include_usage', async (t) => {
  const body = { messages: [videoTurn('clip.mp4', 'Count the frames.')], ...greedy };
  // each on a fresh one-slot server, so both evaluate the same tokens the same way: llama.cpp's
  // sums depend on batching and KV cell placement, and a tiny random model has near-ties that a
  // last-bit difference can flip
  const a = await startServer({ mediaPath: md.dir });
  const b = await startServer({ mediaPath: md.dir });
  t.teardown(() => Promise.all([a.server.close(), b.server.close()]));
  const whole = await post(a.url, body);
  const r = await fetch(`${b.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }) });
  t.equal(r.status, 200);
  t.match(r.headers.get('content-type'), /text\/event-stream/);
  const events = sseData(await r.text());
  t.equal(events[events.length - 1], '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
  t.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
  t.equal(chunks[0].choices[0].delta.role, 'assistant');
  const text = chunks.flatMap((c) => c.choices.map((ch: { delta: { content?: string } }) => ch.delta.content ?? '')).join('');
  t.equal(text, whole.json.choices[0].message.content, 'greedy: the streamed pieces join to the whole answer');
  const last = chunks[chunks.length - 1];
  t.same(last.choices, [], 'the usage chunk has no choices');
  t.equal(last.usage.completion_tokens, 6);
  t.equal(last.usage.prompt_tokens, whole.json.usage.prompt_tokens);
  t.equal(chunks[chunks.length - 2].choices[0].finish_reason, 'length');

  const plain = sseData(await (await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) })).text());
  t.notOk(plain.slice(0, -1).some((e) => 'usage' in JSON.parse(e)), 'no usage chunk unless asked for');
});

t.test('a follow-up turn encodes nothing and evaluates only what follows the shared prefix, with the same answer', async (t) => {
  const first = await post(url, { messages: [videoTurn('clip.mp4', 'Describe the first second.')], ...greedy });
  t.equal(first.status, 200);
  const history = [videoTurn('clip.mp4', 'Describe the first second.'), { role: 'assistant', content: first.json.choices[0].message.content }, { role: 'user', content: 'And the last second?' }];
  const follow = await post(url, { messages: history, ...greedy });
  t.equal(follow.status, 200);
  const u = follow.json.usage;
  t.equal(follow.json.vidlm.media[0].encoded, 0, 'every frame came from the embedding cache');
  t.equal(follow.json.vidlm.media[0].cached, 8);
  t.ok(u.prompt_tokens_details.cached_tokens >= first.json.usage.prompt_tokens - 1, `cached ${u.prompt_tokens_details.cached_tokens} of the first turn's ${first.json.usage.prompt_tokens}`);
  t.ok(u.prompt_tokens - u.prompt_tokens_details.cached_tokens < 40, 'only the answer and the new question are evaluated');
  t.equal(first.json.vidlm.kv_tokens, first.json.usage.prompt_tokens, 'the slot holds the prompt');
  t.equal(follow.json.vidlm.kv_tokens, u.prompt_tokens, 'the slot holds the new prompt: the first turn\'s answer tokens were dropped, nothing doubled');
  const same = await post(url, { messages: history, ...greedy });
  t.equal(same.json.usage.prompt_tokens_details.cached_tokens, u.prompt_tokens - 1, 'the same prompt again: all but its last token reused');
  t.equal(same.json.vidlm.kv_tokens, u.prompt_tokens);
  // the same conversation on a fresh server evaluates everything: the answer must not change
  const fresh = await startServer({ mediaPath: md.dir });
  t.teardown(() => fresh.server.close());
  const again = await post(fresh.url, { messages: history, ...greedy });
  t.equal(again.json.usage.prompt_tokens_details.cached_tokens, 0);
  t.equal(again.json.usage.prompt_tokens, u.prompt_tokens);
  // the first tokens (later ones may flip on a near-tie: the two evaluations batch differently)
  const x = await post(url, { messages: history, ...greedy, max_tokens: 2 });
  t.ok(x.json.usage.prompt_tokens_details.cached_tokens > 0);
  t.ok(again.json.choices[0].message.content.startsWith(x.json.choices[0].message.content), 'reused KV starts the answer a full evaluation gives');
});

t.test('two follow-ups at once on the same video each get a slot and a correct answer', async (t) => {
  const base = await post(url, { messages: [videoTurn('clip.mp4', 'Q0')], ...greedy });
  const turns = ['Q1', 'Q2'].map((q) => [videoTurn('clip.mp4', 'Q0'), { role: 'assistant', content: base.json.choices[0].message.content }, { role: 'user', content: q }]);
  const [a, b] = await Promise.all(turns.map((messages) => post(url, { messages, ...greedy })));
  t.equal(a!.status, 200);
  t.equal(b!.status, 200);
  for (const r of [a!, b!]) t.equal(r.json.usage.completion_tokens, 6);
  // the one in the slot that answered Q0 reuses its KV; the other slot may hold something else
  t.ok(Math.max(a!.json.usage.prompt_tokens_details.cached_tokens, b!.json.usage.prompt_tokens_details.cached_tokens) > 512, 'the video came from a slot\'s KV');
  t.equal(a!.json.vidlm.media[0].encoded + b!.json.vidlm.media[0].encoded, 0, 'neither encoded anything');
});

t.test('input_video (llama-server), data URLs, file:// URLs, a phone-size JPEG and several media in one message', async (t) => {
  const clip = readFileSync(md.clip).toString('base64');
  const iv = await post(url, { messages: [{ role: 'user', content: [{ type: 'input_video', input_video: { data: clip, format: 'mp4' } }, { type: 'text', text: 'What is it?' }] }], ...greedy });
  t.equal(iv.status, 200, JSON.stringify(iv.json));
  t.equal(iv.json.vidlm.media[0].duration, 4);
  const png = `data:image/png;base64,${readFileSync(md.still).toString('base64')}`;
  const img = await post(url, { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: png } }, { type: 'text', text: 'What is it?' }] }], ...greedy });
  t.equal(img.status, 200, JSON.stringify(img.json));
  t.equal(img.json.vidlm.media[0].frames.length, 1);
  const photo = await post(url, { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `file://${md.photo}` } }, { type: 'text', text: 'What is it?' }] }], ...greedy });
  t.equal(photo.status, 200, JSON.stringify(photo.json));
  const two = await post(url, {
    messages: [
      { role: 'user', content: [{ type: 'video_url', video_url: { url: 'clip.mp4' } }, { type: 'text', text: 'and' }, { type: 'image_url', image_url: 'still.png' }, { type: 'text', text: 'compare' }] },
    ], ...greedy,
  });
  t.equal(two.status, 200, JSON.stringify(two.json));
  t.equal(two.json.vidlm.media.length, 2);
  const visual = two.json.vidlm.media.reduce((n: number, m: { visual_tokens: number }) => n + m.visual_tokens, 0);
  t.ok(two.json.usage.prompt_tokens > visual, 'both media are in the prompt');
  const earlier = await post(url, { messages: [videoTurn('clip.mp4', 'first'), { role: 'assistant', content: 'ok' }, { role: 'user', content: [{ type: 'image_url', image_url: { url: 'still.png' } }, { type: 'text', text: 'now this' }] }], ...greedy });
  t.equal(earlier.status, 200, 'media in an earlier turn and the last');
  t.equal(earlier.json.vidlm.media.length, 2);
});

t.test('per-request video options: vLLM kwargs and the vidlm object', async (t) => {
  const n = await post(url, { messages: [videoTurn('clip.mp4')], media_io_kwargs: { video: { num_frames: 4 } }, ...greedy });
  t.same(n.json.vidlm.media[0].frames.map((f: { index: number }) => f.index), [0, 39, 79, 119], 'num_frames 4: linspace(0, 119, 4, dtype=int)');
  const fps = await post(url, { messages: [videoTurn('clip.mp4')], mm_processor_kwargs: { fps: 1 }, ...greedy });
  t.same(fps.json.vidlm.media[0].frames.map((f: { t: number }) => Math.round(f.t)), [0, 1, 2, 3], 'fps 1 on a 4 s clip');
  const v = await post(url, { messages: [videoTurn('clip.mp4')], media_io_kwargs: { video: { num_frames: 4 } }, vidlm: { strategy: 'pllava', frames: 16, segment: [0, 2] }, ...greedy });
  t.equal(v.status, 200, JSON.stringify(v.json));
  const m = v.json.vidlm.media[0];
  t.equal(m.strategy, 'pllava');
  t.equal(m.frames.length, 16, 'the vidlm object wins over media_io_kwargs');
  t.equal(m.visual_tokens, 16 * 4 * 4, 'PLLaVA: 8×8 pooled 2×2 to 4×4, 16 frames');
  t.ok(m.frames.every((f: { t: number }) => f.t <= 2), 'inside the segment');
  const lita = await post(url, { messages: [videoTurn('clip.mp4')], vidlm: { strategy: 'slowfast', timeTokens: 'lita', preamble: true }, ...greedy });
  t.equal(lita.status, 200, JSON.stringify(lita.json));
  t.equal(lita.json.vidlm.media[0].frames.length, 100);
});

t.test('sampling parameters and response_format json_schema', async (t) => {
  const body = { messages: [videoTurn('clip.mp4')], temperature: 1, top_p: 0.9, seed: 7, max_completion_tokens: 8 };
  const [a, b] = [await post(url, body), await post(url, body)];
  t.equal(a.json.choices[0].message.content, b.json.choices[0].message.content, 'the same seed samples the same answer');
  t.equal(a.json.usage.completion_tokens, 8, 'max_completion_tokens');
  const c = await post(url, { ...body, seed: 8 });
  t.not(c.json.choices[0].message.content, a.json.choices[0].message.content, 'another seed samples another answer');
  const schema = { type: 'object', properties: { answer: { enum: ['yes', 'no'] } }, required: ['answer'], additionalProperties: false };
  const j = await post(url, { messages: [videoTurn('clip.mp4', 'Is it moving?')], response_format: { type: 'json_schema', json_schema: { name: 'a', schema } }, max_tokens: 64, temperature: 0 });
  t.equal(j.status, 200, JSON.stringify(j.json));
  const parsed = JSON.parse(j.json.choices[0].message.content);
  t.ok(['yes', 'no'].includes(parsed.answer), j.json.choices[0].message.content);
  t.same(Object.keys(parsed), ['answer']);
  // json_object: random weights rarely close an object at temperature 0, so sample seeds until one
  // answer ends on its own (most seeds do within a few tries under the grammar; without it, the end of
  // sequence is ~1/vocabulary a token and none would). Every answer that stops must be a JSON object.
  let closed: string | undefined;
  for (let seed = 0; seed < 60 && closed === undefined; seed++) {
    const o = await post(url, { messages: [videoTurn('clip.mp4')], response_format: { type: 'json_object' }, max_tokens: 128, temperature: 1, seed });
    t.equal(o.status, 200);
    if (o.json.choices[0].finish_reason === 'stop') closed = o.json.choices[0].message.content;
  }
  t.ok(closed !== undefined, 'some seed ends its answer inside 128 tokens');
  t.type(JSON.parse(closed ?? 'null'), 'object', `a JSON object: ${closed}`);
  t.not(JSON.parse(closed ?? 'null'), null);
  const stop = await post(url, { messages: [videoTurn('clip.mp4')], ...greedy, max_tokens: 20, stop: [a.json.choices[0].message.content.slice(0, 0) || '\u0000never'] });
  t.equal(stop.json.usage.completion_tokens, 20, 'a stop string that never appears does not stop');
});

t.test('GET /v1/models and /health', async (t) => {
  const m = await (await fetch(`${url}/v1/models`)).json() as { object: string; data: { id: string; object: string }[] };
  t.equal(m.object, 'list');
  t.same(m.data.map((d) => [d.id, d.object]), [[server.modelId, 'model']]);
  const h = await fetch(`${url}/health`);
  t.equal(h.status, 200);
  t.same(await h.json(), { status: 'ok', slots: { total: 2, busy: 0 }, queue: 0 });
});

t.test('an M-RoPE model (Qwen2-VL) answers through its native media path', async (t) => {
  const m = await tinyModels();
  const q = await startServer({ model: { model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 }, mediaPath: md.dir });
  t.teardown(() => q.server.close());
  const r = await post(q.url, { messages: [videoTurn('clip.mp4')], vidlm: { frames: 4 }, ...greedy });
  t.equal(r.status, 200, JSON.stringify(r.json));
  t.equal(r.json.vidlm.media[0].strategy, 'native');
  t.equal(r.json.vidlm.media[0].frames.length, 4);
  t.equal(r.json.usage.completion_tokens, 6);
  t.ok(r.json.usage.prompt_tokens > 0);
  // a pooled method on M-RoPE: its grids get positions of their own (lib/assembly/mrope.ts); 16 frames of 4×4 pooled to 2×2
  const pooled = await post(q.url, { messages: [videoTurn('clip.mp4')], vidlm: { strategy: 'pllava' }, ...greedy });
  t.equal(pooled.status, 200, JSON.stringify(pooled.json));
  t.equal(pooled.json.vidlm.media[0].strategy, 'pllava');
  t.equal(pooled.json.usage.completion_tokens, 6);
});
