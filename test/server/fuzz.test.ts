// Every client error is a 4xx with an OpenAI error body (#29 item 5): a property-based test
// (fast-check) over request shapes — the schema's fields with values of every type, content parts
// with and without their objects, odd URLs (file://host, encoded separators, SDP and text data
// URLs) — asserts that no request gets a 5xx and that every error has message, type and code.
import t from 'tap';
import fc from 'fast-check';
import { mediaDir, startServer } from './helpers.js';

const md = await mediaDir();
t.teardown(md.cleanup);
const { server, url } = await startServer({ parallel: 1, mediaPath: md.dir, maxMediaMb: 1, maxFrames: 16, requestTimeout: 30 });
t.teardown(() => server.close());

const value = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string({ maxLength: 20 }),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.constant(null)), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.integer(), fc.string({ maxLength: 5 })), { maxKeys: 3 }));
const mediaUrl = fc.oneof(
  fc.constantFrom('clip.mp4', 'still.png', 'photo.jpg', 'notes.txt', 'missing.mp4', 'link.mp4', '../../etc/passwd', 'file://host/x.mp4', 'file:///a/..%2f..%2fetc%2fpasswd',
    'file:///etc/passwd', 'data:video/mp4;base64,AAAA', 'data:application/sdp;base64,dj0wCg==', 'data:text/plain;base64,aGk=', 'data:,x', 'data:video/mp4,raw', 'http://127.0.0.1:1/a.mp4',
    'ftp://x/a', 'javascript:alert(1)', '', '\u0000', 'C:\\x.mp4'),
  fc.string({ maxLength: 30 }), value);
const urlField = fc.oneof(mediaUrl, fc.record({ url: mediaUrl }), fc.record({}));
const part = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.oneof(fc.string({ maxLength: 40 }), value) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('image_url'), image_url: urlField }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('video_url'), video_url: urlField }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('input_video'), input_video: fc.oneof(value, fc.record({ data: fc.oneof(fc.string({ maxLength: 20 }), value), url: mediaUrl, format: fc.oneof(fc.string({ maxLength: 6 }), value) }, { requiredKeys: [] })) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('input_audio'), input_audio: fc.oneof(value, fc.record({ data: fc.oneof(fc.string({ maxLength: 20 }), value), format: fc.oneof(fc.constantFrom('wav', 'mp3', 'flac'), value) }, { requiredKeys: [] })) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.oneof(fc.string({ maxLength: 10 }), value) }),
  value,
);
const message = fc.record({
  role: fc.oneof(fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool'), value),
  content: fc.oneof(fc.string({ maxLength: 40 }), fc.constant(null), fc.array(part, { maxLength: 3 }), value),
  name: value,
}, { requiredKeys: [] });
const body = fc.record({
  model: fc.oneof(fc.constant(server.modelId), value),
  messages: fc.oneof(fc.array(message, { minLength: 1, maxLength: 3 }), value),
  stream: fc.oneof(fc.boolean(), value),
  stream_options: fc.oneof(fc.record({ include_usage: fc.oneof(fc.boolean(), value) }), value),
  max_tokens: fc.oneof(fc.constantFrom(1, 2), value),
  max_completion_tokens: fc.oneof(fc.constant(1), value),
  temperature: fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }), value),
  top_p: value, stop: fc.oneof(fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }), value), seed: value, n: value,
  logprobs: value, top_logprobs: value, tools: value, tool_choice: value,
  response_format: fc.oneof(fc.record({ type: fc.constantFrom('text', 'json_object', 'json_schema'), json_schema: fc.oneof(value, fc.record({ schema: fc.oneof(value, fc.constant({ type: 'object' })) })) }, { requiredKeys: ['type'] }), value),
  media_io_kwargs: fc.oneof(fc.record({ video: fc.oneof(value, fc.record({ num_frames: value, fps: value }, { requiredKeys: [] })) }), value),
  mm_processor_kwargs: fc.oneof(fc.record({ fps: value }), value),
  vidlm: fc.oneof(value, fc.record({
    strategy: fc.oneof(fc.constantFrom('auto', 'concat', 'slowfast', 'pllava', 'bilinear', 'vcgpt', 'native'), value),
    frames: fc.oneof(fc.integer({ min: 1, max: 4 }), value), fps: value, segment: fc.oneof(fc.tuple(fc.double({ min: 0, max: 10, noNaN: true }), fc.double({ min: 0, max: 10, noNaN: true })), value),
    timeTokens: fc.oneof(fc.constantFrom('none', 'text', 'lita'), value), preamble: value, audio: value, audioWindow: value,
    subtitles: fc.oneof(fc.constantFrom(true, 'en', 0, 'missing.srt', '../x.srt', 'http://x/a.srt', 'file://host/a.srt'), value),
  }, { requiredKeys: [] })),
}, { requiredKeys: [] });

/** Shapes close to what clients send: one user turn with media and text, small answers. */
const sane = fc.record({
  model: fc.constant(server.modelId),
  messages: fc.tuple(fc.array(fc.oneof(
    fc.record({ type: fc.constant('text'), text: fc.string({ maxLength: 40 }) }),
    fc.record({ type: fc.constant('video_url'), video_url: fc.record({ url: mediaUrl }) }),
    fc.record({ type: fc.constant('image_url'), image_url: fc.record({ url: fc.constantFrom('still.png', 'photo.jpg', 'clip.mp4', 'notes.txt') }) }),
    fc.record({ type: fc.constant('input_audio'), input_audio: fc.record({ data: fc.string({ maxLength: 8 }), format: fc.constantFrom('wav', 'mp3') }, { requiredKeys: [] }) }, { requiredKeys: ['type'] }),
    fc.record({ type: fc.constant('input_video'), input_video: fc.record({ data: fc.string({ maxLength: 8 }), url: mediaUrl }, { requiredKeys: [] }) }, { requiredKeys: ['type'] }),
  ), { minLength: 1, maxLength: 2 })).map(([content]) => [{ role: 'user', content }]),
  max_tokens: fc.constantFrom(1, 2),
  stream: fc.boolean(),
  vidlm: fc.record({ frames: fc.integer({ min: 1, max: 4 }), strategy: fc.constantFrom('auto', 'concat', 'pllava', 'native'), timeTokens: fc.constantFrom('none', 'text') }, { requiredKeys: [] }),
}, { requiredKeys: ['model', 'messages', 'max_tokens'] });

t.test('no request shape gets a 5xx; every error is an OpenAI error body', async (t) => {
  let statuses: Record<number, number> = {};
  await fc.assert(fc.asyncProperty(fc.oneof(sane, body, value), async (b) => {
    const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
    const text = await r.text();
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.status >= 500) throw new Error(`${r.status} for ${JSON.stringify(b).slice(0, 600)}: ${text.slice(0, 300)}`);
    if (r.status >= 400) {
      const e = (JSON.parse(text) as { error?: { message?: unknown; type?: unknown; code?: unknown } }).error;
      if (typeof e?.message !== 'string' || typeof e.type !== 'string' || typeof e.code !== 'string') throw new Error(`not an OpenAI error body: ${text.slice(0, 300)}`);
    }
  }), { numRuns: Number(process.env.VIDLM_FUZZ_RUNS ?? 300), seed: Number(process.env.VIDLM_FUZZ_SEED ?? 29) });
  t.comment(`statuses: ${JSON.stringify(statuses)}`);
  t.ok(Object.keys(statuses).some((s) => Number(s) === 200), 'some shapes were answered');
  t.equal(((await (await fetch(`${url}/health`)).json()) as { slots: { busy: number } }).slots.busy, 0, 'no slot left busy');
});
