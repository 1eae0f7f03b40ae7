// The page's endpoints beside the chat API (lib/server/ui): GET /, --no-ui, the media listing
// under the request path rules, a media file with byte ranges, and the budget before asking,
// compared with what the chat endpoint then reports for the same options.
import t from 'tap';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mediaDir, post, spawnServer, startServer, videoTurn } from './helpers.js';

const md = await mediaDir();
t.teardown(md.cleanup);
const MB = 0.5;
const { server, url } = await startServer({ mediaPath: md.dir, maxMediaMb: MB });
t.teardown(() => server.close());
const get = async (path: string, headers: Record<string, string> = {}) => {
  const r = await fetch(`${url}${path}`, { headers });
  const body = Buffer.from(await r.arrayBuffer());
  return { status: r.status, headers: r.headers, body, json: () => JSON.parse(body.toString()) };
};
const budget = async (body: unknown, base = url, headers: Record<string, string> = {}) => {
  const r = await fetch(`${base}/ui/api/budget`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json() as any };
};

t.test('GET / is the page; its script and style are served; --no-ui (ui: false) turns all of it off', async (t) => {
  const page = await get('/');
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), /text\/html/);
  t.match(page.body.toString(), /<title>vidlm/);
  const off = await startServer({ mediaPath: md.dir, ui: false });
  t.teardown(() => off.server.close());
  for (const p of ['/', '/ui/api/info', '/ui/api/media']) t.equal((await fetch(`${off.url}${p}`)).status, 404, `${p} without the page`);
  t.equal((await fetch(`${off.url}/health`)).status, 200, 'the rest of the server is there');
  const cli = await spawnServer(['--media-path', md.dir, '--no-ui']);
  t.teardown(() => cli.stop());
  t.equal((await fetch(`${cli.url}/`)).status, 404, 'vidlm serve --no-ui');
  t.equal((await fetch(`${cli.url}/v1/models`)).status, 200);
});

t.test('the listing: media files inside the folder, never a symlink that leaves it, tooLarge against --max-media-mb', async (t) => {
  const r = await get('/ui/api/media');
  t.equal(r.status, 200);
  const j = r.json();
  t.equal(j.media_path, true);
  const paths = j.files.map((f: { path: string }) => f.path);
  t.same(paths, ['clip.mp4', 'photo.jpg', 'still.png'], 'the clip and the two pictures; link.mp4 points outside, notes.txt is no media');
  for (const f of j.files) {
    const size = statSync(join(md.dir, f.path)).size;
    t.equal(f.bytes, size, `${f.path} bytes`);
    t.equal(f.tooLarge, size > MB * 1024 * 1024, `${f.path} tooLarge (${size} bytes)`);
  }
  t.same(j.files.map((f: { kind: string }) => f.kind), ['video', 'image', 'image']);
  const none = await startServer({});
  t.teardown(() => none.server.close());
  t.same(await (await fetch(`${none.url}/ui/api/media`)).json(), { media_path: false, files: [], truncated: false, live: [] }, 'no --media-path: nothing to list');
});

t.test('a media file to play: byte ranges, and the request path rules (403 outside the folder, 400 missing)', async (t) => {
  const whole = readFileSync(md.clip);
  const r = await get('/ui/api/file?path=clip.mp4', { range: 'bytes=100-199' });
  t.equal(r.status, 206);
  t.equal(r.headers.get('content-range'), `bytes 100-199/${whole.length}`);
  t.same(r.body, whole.subarray(100, 200), 'the bytes of the range');
  t.match(r.headers.get('content-type'), /video\/mp4/);
  const link = await get('/ui/api/file?path=link.mp4');
  t.equal(link.status, 403);
  t.equal(link.json().error.code, 'path_outside_media_path');
  const up = await get(`/ui/api/file?path=${encodeURIComponent('../' + 'x.mp4')}`);
  t.equal(up.json().error.code, 'invalid_media', 'a file that does not exist (.. resolved first)');
  t.equal((await get(`/ui/api/file?path=${encodeURIComponent(md.outside)}`)).json().error.code, 'path_outside_media_path', 'an absolute path elsewhere');
  t.equal((await get('/ui/api/file')).status, 400, 'no path');
});

t.test('the budget before asking equals what the question then reports', async (t) => {
  for (const vidlm of [{ strategy: 'concat', frames: 4 }, { strategy: 'pllava', frames: 8 }, { strategy: 'concat', frames: 3, segment: [1, 3] }]) {
    const b = await budget({ url: 'clip.mp4', vidlm });
    t.equal(b.status, 200, JSON.stringify(b.json));
    t.equal(b.json.fits, true);
    t.equal(b.json.strategy, vidlm.strategy);
    const a = await post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 1, vidlm });
    t.equal(a.status, 200, JSON.stringify(a.json));
    const m = a.json.vidlm.media[0];
    t.equal(b.json.frames, m.frames.length, `${JSON.stringify(vidlm)}: frames`);
    t.equal(b.json.frameTokens, m.visual_tokens, `${JSON.stringify(vidlm)}: visual tokens`);
    t.equal(b.json.total, b.json.frameTokens + (b.json.audioTokens ?? 0) + b.json.cueTokens);
  }
});

t.test('a question that cannot fit: fits false with the code the question gets', async (t) => {
  const vidlm = { strategy: 'concat', frames: 64 };
  const b = await budget({ url: 'clip.mp4', vidlm });
  t.equal(b.status, 200);
  t.equal(b.json.fits, false);
  t.match(b.json.reason, /\d+/);
  const a = await post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 1, vidlm });
  t.equal(a.status, 400);
  t.equal(a.json.error.code, 'context_length_exceeded');
  if (b.json.error) t.equal(b.json.error.code, a.json.error.code);
});

t.test('budget errors are the chat endpoint\'s: bad options, media outside the folder, a data URL past --max-media-mb', async (t) => {
  const bad = await budget({ url: 'clip.mp4', vidlm: { frames: 4, fps: 2 } });
  t.equal(bad.status, 400);
  t.equal(bad.json.error.code, 'invalid_value');
  t.equal(bad.json.error.param, 'vidlm.frames');
  const outside = await budget({ url: 'link.mp4' });
  t.equal(outside.status, 403);
  t.equal(outside.json.error.code, 'path_outside_media_path');
  const big = await budget({ url: `data:video/mp4;base64,${Buffer.alloc(MB * 1024 * 1024 + 10).toString('base64')}` });
  t.equal(big.status, 413);
  t.equal(big.json.error.code, 'media_too_large');
  const shape = await budget({ vidlm: {} });
  t.equal(shape.status, 400);
  t.equal(shape.json.error.param, 'url');
  const audio = await budget({ url: 'clip.mp4', vidlm: { audio: true } });
  t.equal(audio.status, 400, 'sound for a model that does not hear');
  t.equal(audio.json.error.code, 'unsupported_value');
});

t.test('with --api-key the /ui/api routes need it; the page itself does not', async (t) => {
  const k = await startServer({ mediaPath: md.dir, apiKey: 'sesame' });
  t.teardown(() => k.server.close());
  t.equal((await fetch(`${k.url}/`)).status, 200);
  for (const p of ['/ui/api/info', '/ui/api/media', '/ui/api/file?path=clip.mp4']) {
    const r = await fetch(`${k.url}${p}`);
    t.equal(r.status, 401, p);
    t.equal((await r.json() as any).error.code, 'invalid_api_key');
    t.equal((await fetch(`${k.url}${p}`, { headers: { authorization: 'Bearer sesame' } })).status, 200, `${p} with the key`);
  }
  t.equal((await budget({ url: 'clip.mp4' }, k.url)).status, 401);
  const info = await (await fetch(`${k.url}/ui/api/info`, { headers: { authorization: 'Bearer sesame' } })).json() as any;
  t.equal(info.api_key, true);
  t.equal(info.model_time, false, "a LLaVA model: no time layout of its own");
  t.equal(info.context_size, 2048);
  t.equal(info.media_path, true);
});

t.test('the budget on the M-RoPE pair that also hears (tiny Qwen2-VL LLM + Qwen2.5-Omni mmproj): native frames and sound', async (t) => {
  const { media } = await import('../fixtures/media.js');
  const { tinyModels } = await import('../fixtures/tiny-models.js');
  const { copyFileSync } = await import('node:fs');
  copyFileSync(await media.toneBurst(), join(md.dir, 'toneburst.mp4'));
  const m = await tinyModels();
  const q = await startServer({ model: { model: m.qwen2vlModel, mmproj: m.qwen25OmniMmproj, threads: 1 }, mediaPath: md.dir, contextSize: 8192 });
  t.teardown(() => q.server.close());
  const info = await (await fetch(`${q.url}/ui/api/info`)).json() as any;
  t.same([info.mrope, info.vision, info.audio, info.model_time], [true, true, true, false], "an Omni projector: no Qwen-VL time layout, timeTokens 'model' not offered");
  const v = await startServer({ model: { model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 } });
  t.teardown(() => v.server.close());
  t.equal((await (await fetch(`${v.url}/ui/api/info`)).json() as any).model_time, true, "Qwen2-VL's own projector: timeTokens 'model' offered");
  for (const vidlm of [{ frames: 4 }, { frames: 4, audio: 'interleave', audioWindow: 2 }]) {
    const b = await budget({ url: 'toneburst.mp4', vidlm }, q.url);
    t.equal(b.status, 200, JSON.stringify(b.json));
    t.equal(b.json.strategy, 'native');
    const a = await post(q.url, { messages: [videoTurn('toneburst.mp4')], max_tokens: 1, vidlm });
    t.equal(a.status, 200, JSON.stringify(a.json));
    const r = a.json.vidlm.media[0];
    t.equal(b.json.frames, r.frames.length, `${JSON.stringify(vidlm)}: frames`);
    t.equal(b.json.audioChunks, r.audio_chunks, `${JSON.stringify(vidlm)}: audio clips`);
    // the prompt is the media the budget counts plus the template's text and the media markers
    const text = a.json.usage.prompt_tokens - b.json.total;
    t.ok(text > 0 && text < 100, `prompt ${a.json.usage.prompt_tokens} = budget ${b.json.total} + ${text} of text and markers`);
    // real-length audio (the default): a 2 s clip is 32000 samples → 200 mel frames → 100 after the stride-2 conv → 50 after the pool
    if (vidlm.audio) t.equal(b.json.audioTokens, 2 * 50, 'two 2 s clips, 50 embeddings each');
    t.equal(b.json.fits, true);
  }
});
