// Every bad request gets an OpenAI-shaped error with a stable code and leaves the server serving:
// malformed JSON, unknown parts, bad options, unsupported parameters, limits, paths out of the
// media folder, remote media rules, API keys.
import t, { type Test } from 'tap';
import { createServer as createHttpServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { mediaDir, post, startServer, videoTurn } from './helpers.js';

const md = await mediaDir();
t.teardown(md.cleanup);
const { server, url } = await startServer({ parallel: 1, mediaPath: md.dir, maxMediaMb: 0.5, maxDuration: 10, maxFrames: 64 });
t.teardown(() => server.close());

function isOpenAIError(t: Test, r: { status: number; json: any }, status: number, code: string, param?: string | null) {
  t.equal(r.status, status, JSON.stringify(r.json));
  t.type(r.json?.error?.message, 'string');
  t.type(r.json?.error?.type, 'string');
  t.equal(r.json?.error?.code, code);
  t.ok('param' in (r.json?.error ?? {}), 'param is present (null or the field)');
  if (param !== undefined) t.equal(r.json.error.param, param);
}

const cases: [string, unknown, number, string, string?][] = [
  ['malformed JSON', '{"messages": [', 400, 'invalid_json'],
  ['no messages', { model: 'x' }, 400, 'invalid_value', 'messages'],
  ['empty messages', { messages: [] }, 400, 'invalid_value'],
  ['messages not an array', { messages: 'hi' }, 400, 'invalid_value', 'messages'],
  ['an unknown role', { messages: [{ role: 'wizard', content: 'x' }] }, 400, 'invalid_value'],
  ['an unknown part type', { messages: [{ role: 'user', content: [{ type: 'file', file: {} }] }] }, 400, 'invalid_content_part', 'messages[0].content[0].type'],
  ['a video_url without url', { messages: [{ role: 'user', content: [{ type: 'video_url', video_url: {} }] }] }, 400, 'invalid_value'],
  ['a text part without text', { messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 400, 'invalid_value', 'messages[0].content[0].text'],
  ['temperature out of range', { messages: [{ role: 'user', content: 'x' }], temperature: 5 }, 400, 'invalid_value'],
  ['max_tokens not an integer', { messages: [{ role: 'user', content: 'x' }], max_tokens: 1.5 }, 400, 'invalid_value'],
  ['a string where a number goes', { messages: [{ role: 'user', content: 'x' }], temperature: '0.5' }, 400, 'invalid_value'],
  ['an unknown strategy', { messages: [videoTurn('clip.mp4')], vidlm: { strategy: 'magic' } }, 400, 'invalid_value'],
  ['an unknown vidlm option', { messages: [videoTurn('clip.mp4')], vidlm: { turbo: true } }, 400, 'invalid_value'],
  ['frames and fps', { messages: [videoTurn('clip.mp4')], vidlm: { frames: 4, fps: 1 } }, 400, 'invalid_value', 'vidlm.frames'],
  ['a backwards segment', { messages: [videoTurn('clip.mp4')], vidlm: { segment: [3, 1] } }, 400, 'invalid_value', 'vidlm.segment'],
  ['a segment after the end', { messages: [videoTurn('clip.mp4')], vidlm: { segment: [8, 9] } }, 400, 'invalid_value', 'vidlm.segment'],
  ['n > 1', { messages: [{ role: 'user', content: 'x' }], n: 2 }, 400, 'unsupported_parameter', 'n'],
  // the tiny model's own template renders no tools (tools.test.ts covers a template that does)
  ['tools with a template that renders none', { messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f' } }] }, 400, 'unsupported_value', 'tools'],
  ['logprobs', { messages: [{ role: 'user', content: 'x' }], logprobs: true }, 400, 'unsupported_parameter', 'logprobs'],
  ['a bad JSON schema', { messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { a: { $ref: '#/nowhere' } } } } } }, 400, 'invalid_response_format'],
  ['media in an assistant message', { messages: [{ role: 'assistant', content: [{ type: 'image_url', image_url: 'still.png' }] }, { role: 'user', content: 'x' }] }, 400, 'invalid_value'],
  ['the media marker in text', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: 'still.png' }, { type: 'text', text: `see ${server.model.mediaMarker}` }] }] }, 400, 'invalid_value'],
  ['a path out of the media folder', { messages: [videoTurn('../../etc/passwd')] }, 403, 'path_outside_media_path'],
  ['an absolute path outside', { messages: [videoTurn(md.outside)] }, 403, 'path_outside_media_path'],
  ['a file:// URL outside', { messages: [videoTurn(`file://${md.outside}`)] }, 403, 'path_outside_media_path'],
  ['a symlink out of the media folder', { messages: [videoTurn('link.mp4')] }, 403, 'path_outside_media_path'],
  ['a missing file', { messages: [videoTurn('nope.mp4')] }, 400, 'invalid_media'],
  // a part the decoder refuses is named, as any other bad part (a request may hold several)
  ['a text file as video', { messages: [videoTurn('notes.txt')] }, 400, 'invalid_media', 'messages[0].content[0].video_url'],
  ['a data URL of garbage', { messages: [videoTurn(`data:video/mp4;base64,${Buffer.from('garbage'.repeat(50)).toString('base64')}`)] }, 400, 'invalid_media', 'messages[0].content[0].video_url'],
  ['a cut-off video as the second part', { messages: [{ role: 'user', content: [{ type: 'video_url', video_url: { url: 'clip.mp4' } }, { type: 'video_url', video_url: { url: `data:video/mp4;base64,${readFileSync(md.clip).subarray(0, 20000).toString('base64')}` } }, { type: 'text', text: 'x' }] }], vidlm: { frames: 4 } }, 400, 'invalid_media', 'messages[0].content[1].video_url'],
  ['a data URL that is not base64', { messages: [videoTurn('data:video/mp4,rawbytes')] }, 400, 'invalid_media'],
  ['an ftp URL', { messages: [videoTurn('ftp://example.com/a.mp4')] }, 400, 'invalid_media'],
  ['remote media when it is off', { messages: [videoTurn('http://127.0.0.1:1/a.mp4')] }, 403, 'remote_media_disabled'],
  ['too many frames', { messages: [videoTurn('clip.mp4')], vidlm: { frames: 100, strategy: 'slowfast' } }, 400, 'too_many_frames'],
  ['more visual tokens than the slot holds', { messages: [videoTurn('clip.mp4')], vidlm: { frames: 40, strategy: 'concat' } }, 400, 'context_length_exceeded'],
];

for (const [name, body, status, code, param] of cases) {
  t.test(name, async (t) => isOpenAIError(t, await post(url, body), status, code, param));
}

t.test('a data URL over --max-media-mb is refused before decoding', async (t) => {
  const big = Buffer.alloc(600 * 1024, 1).toString('base64');
  isOpenAIError(t, await post(url, { messages: [videoTurn(`data:video/mp4;base64,${big}`)] }), 413, 'media_too_large');
});

t.test('a body over the body limit gets 413', async (t) => {
  const huge = 'x'.repeat(2 * 1024 * 1024);
  isOpenAIError(t, await post(url, { messages: [{ role: 'user', content: huge }] }), 413, 'request_too_large');
});

t.test('a video longer than --max-duration', async (t) => {
  const { server: s2, url: u2 } = await startServer({ mediaPath: md.dir, maxDuration: 2 });
  t.teardown(() => s2.close());
  isOpenAIError(t, await post(u2, { messages: [videoTurn('clip.mp4')] }), 400, 'media_too_long');
});

t.test('the server still serves after all of it, with no slot left busy', async (t) => {
  const h = await (await fetch(`${url}/health`)).json() as { slots: { busy: number }; queue: number };
  t.same(h.slots.busy, 0);
  t.equal(h.queue, 0);
  const r = await post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 2 });
  t.equal(r.status, 200);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  t.match(metrics, /vidlm_errors_total\{code="path_outside_media_path"\} 4/, 'errors are counted by code');
  t.match(metrics, /vidlm_requests_total\{status="403"\} \d+/);
});

t.test('API key: missing or wrong gets 401, the right one passes, /health needs none', async (t) => {
  const { server: s2, url: u2 } = await startServer({ apiKey: 'sekret-key', mediaPath: md.dir });
  t.teardown(() => s2.close());
  const body = { messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 };
  isOpenAIError(t, await post(u2, body), 401, 'invalid_api_key');
  isOpenAIError(t, await post(u2, body, { authorization: 'Bearer sekret-kez' }), 401, 'invalid_api_key');
  isOpenAIError(t, await post(u2, body, { authorization: 'Bearer sekret-key-longer' }), 401, 'invalid_api_key');
  t.equal((await post(u2, body, { authorization: 'Bearer sekret-key' })).status, 200);
  t.equal((await fetch(`${u2}/v1/models`)).status, 401);
  t.equal((await fetch(`${u2}/metrics`)).status, 401);
  t.equal((await fetch(`${u2}/health`)).status, 200);
});

t.test('remote media: loopback refused unless allowed, size limit, then fetched', async (t) => {
  const clip = readFileSync(md.clip);
  const http = createHttpServer((req, res) => {
    if (req.url === '/big.mp4') { res.writeHead(200); res.end(Buffer.alloc(3 * 1024 * 1024)); return; }
    if (req.url === '/clip.mp4') { res.writeHead(200, { 'content-type': 'video/mp4' }); res.end(clip); return; }
    res.writeHead(404); res.end();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  t.teardown(() => http.close());
  const port = (http.address() as { port: number }).port;
  const strict = await startServer({ allowRemote: true });
  t.teardown(() => strict.server.close());
  isOpenAIError(t, await post(strict.url, { messages: [videoTurn(`http://127.0.0.1:${port}/clip.mp4`)], max_tokens: 2 }), 403, 'private_address');
  isOpenAIError(t, await post(strict.url, { messages: [videoTurn(`http://localhost:${port}/clip.mp4`)], max_tokens: 2 }), 403, 'private_address', undefined);
  const open = await startServer({ allowRemote: true, allowPrivateAddresses: true, maxMediaMb: 1 });
  t.teardown(() => open.server.close());
  isOpenAIError(t, await post(open.url, { messages: [videoTurn(`http://127.0.0.1:${port}/big.mp4`)], max_tokens: 2 }), 413, 'media_too_large');
  isOpenAIError(t, await post(open.url, { messages: [videoTurn(`http://127.0.0.1:${port}/missing.mp4`)], max_tokens: 2 }), 400, 'invalid_media');
  const ok = await post(open.url, { messages: [videoTurn(`http://127.0.0.1:${port}/clip.mp4`)], max_tokens: 2 });
  t.equal(ok.status, 200, JSON.stringify(ok.json));
  t.equal(ok.json.vidlm.media[0].duration, 4);
});

t.test('a request past --timeout gets 408 request_timeout and frees its slot', async (t) => {
  const { server: s2, url: u2 } = await startServer({ mediaPath: md.dir, requestTimeout: 0.05 });
  t.teardown(() => s2.close());
  isOpenAIError(t, await post(u2, { messages: [videoTurn('clip.mp4')], max_tokens: 1500 }), 408, 'request_timeout');
  const h = await (await fetch(`${u2}/health`)).json() as { slots: { busy: number } };
  t.equal(h.slots.busy, 0);
});
