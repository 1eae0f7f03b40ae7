// POST /ui/api/live: watch() on a live source the operator named, streamed as SSE. The source is
// MPEG-TS over UDP on 127.0.0.1, sent in real time by the ffmpeg program. Windows arrive with
// increasing times; unknown names and client-supplied URLs are refused before anything is
// opened; a client that disconnects stops its watch (the server's live metrics show no window
// after it); at most `liveWatches` run at once. Every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import t from 'tap';
import { createServer } from '../../lib/index.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { freeUdpPort } from '../fixtures/ports.js';
import { spawnServer, startServer } from './helpers.js';

/** ffmpeg sending a moving test pattern as MPEG-TS to `out` in real time, for `d` seconds. */
function sender(out: string, d: number): ChildProcess {
  const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', `testsrc2=size=160x120:rate=10:d=${d}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '5', '-pix_fmt', 'yuv420p', '-f', 'mpegts', `${out}?pkt_size=1316`], { stdio: 'ignore' });
  p.on('error', () => undefined);
  return p;
}

const port = await freeUdpPort();
const src = `udp://127.0.0.1:${port}`;
const cam = sender(src, 120);
t.teardown(() => { cam.kill('SIGKILL'); });
const { server, url } = await startServer({ live: { cam: src } });
t.teardown(() => server.close());

/** An open live watch: the items as they arrive, and close() (the client going away). */
function open(body: object, base = url) {
  const ac = new AbortController();
  const items: any[] = [];
  let status = 0, error: any = null;
  const done = (async () => {
    const r = await fetch(`${base}/ui/api/live`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ac.signal });
    status = r.status;
    if (!r.ok) { error = await r.json(); return; }
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const data = buf.slice(0, cut).split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        buf = buf.slice(cut + 2);
        if (data) items.push(JSON.parse(data));
      }
    }
  })().catch((e) => { if (!ac.signal.aborted) throw e; });
  return { items, done, close: () => ac.abort(), get status() { return status; }, get error() { return error; } };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A metric's value from GET /metrics. */
async function metric(name: string, base = url): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

const windowsOf = (items: any[]) => items.filter((x) => x.type === 'window');
const SMALL = { name: 'cam', every: 1, window: 1, fps: 2, max_tokens: 4 };

t.test('the page\'s info and listing name the live sources, never their URLs', async (t) => {
  const info = await (await fetch(`${url}/ui/api/info`)).json() as any;
  t.same(info.live, ['cam']);
  t.equal(info.live_watches, 1);
  const media = await (await fetch(`${url}/ui/api/media`)).text();
  t.same(JSON.parse(media).live, [{ name: 'cam', kind: 'live' }]);
  t.notOk(media.includes('udp') || JSON.stringify(info).includes('udp'), 'no URL is shown');
});

t.test('windows of the live source arrive as they come, with increasing times; a disconnect stops the watch', { timeout: 120_000 }, async (t) => {
  const w = open(SMALL);
  await until(() => windowsOf(w.items).length >= 3, 60_000, 'three live windows');
  t.equal(w.status, 200);
  t.same(w.items[0], { type: 'start', name: 'cam', every: 1, window: 1 });
  t.equal(await metric('vidlm_live_watches'), 1, 'one live watch runs');
  const wins = windowsOf(w.items);
  for (let i = 0; i < wins.length; i++) {
    const x = wins[i];
    t.ok(x.frames > 0 && x.frames <= 3, `window ${x.index}: ${x.frames} frames`);
    t.ok(x.windowEnd - x.windowStart <= 1 + 1e-6, 'a window is at most 1 s long');
    t.equal(typeof x.text, 'string');
    for (const f of x.frameTimes) t.ok(f >= x.windowStart - 1e-6 && f < x.windowEnd, `frame ${f} inside [${x.windowStart}, ${x.windowEnd})`);
    if (i > 0) {
      t.ok(x.windowEnd > wins[i - 1].windowEnd, `window ends increase (${wins[i - 1].windowEnd} → ${x.windowEnd})`);
      t.ok(x.wallEnd > wins[i - 1].wallEnd, 'and so do their wall times: the stream plays');
    }
  }
  // the client goes away: the watch stops, its context is freed, and no window is answered after it
  w.close();
  await w.done;
  const t0 = Date.now();
  let running = 1;
  while (running !== 0 && Date.now() - t0 < 10_000) { running = await metric('vidlm_live_watches'); await new Promise((r) => setTimeout(r, 50)); }
  t.equal(running, 0, `the watch ended ${Date.now() - t0} ms after the disconnect`);
  const after = await metric('vidlm_live_windows_total');
  t.ok(after >= wins.length, `${after} windows answered in all`);
  await new Promise((r) => setTimeout(r, 3000)); // 3 windows' worth of stream keeps coming
  t.equal(await metric('vidlm_live_windows_total'), after, 'no window answered after the disconnect');
  t.equal(cam.exitCode, null, 'the source still streams');
});

t.test('unknown names and client-supplied URLs are refused before anything is opened', async (t) => {
  const post = async (body: unknown) => {
    const r = await fetch(`${url}/ui/api/live`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, json: await r.json() as any };
  };
  const unknown = await post({ name: 'door' });
  t.equal(unknown.status, 404);
  t.same(Object.keys(unknown.json.error).sort(), ['code', 'message', 'param', 'type']);
  t.equal(unknown.json.error.code, 'live_source_not_found');
  t.equal(unknown.json.error.param, 'name');
  for (const name of [src, `udp://127.0.0.1:${port + 1}`, 'data:application/sdp;base64,dj0w', '/etc/passwd', '../cam']) {
    const r = await post({ name });
    t.equal(r.status, 404, `a URL or path as the name (${name.slice(0, 30)}) is just an unknown name`);
  }
  const withUrl = await post({ name: 'cam', url: `udp://127.0.0.1:${port + 1}` });
  t.equal(withUrl.status, 400, 'a url field is not accepted');
  t.equal(withUrl.json.error.code, 'invalid_value');
  t.equal((await post({ name: 'cam', ffmpegOptions: { protocol_whitelist: 'udp' } })).status, 400, 'nor FFmpeg options');
  t.equal((await post({})).json.error.param, 'name');
  const both = await post({ name: 'cam', frames: 2, fps: 2 });
  t.equal(both.status, 400, 'bad watch options are a plain 400');
  t.equal(both.json.error.vidlm_code, 'ERR_INVALID_ARG');
  const many = await post({ name: 'cam', window: 600, fps: 10 });
  t.equal(many.status, 400, 'a window past --max-frames');
  t.equal(await metric('vidlm_live_watches'), 0, 'none of them started a watch');
});

t.test('at most liveWatches run at once: 503 live_watches_busy past it, a place again once one ends', { timeout: 120_000 }, async (t) => {
  const a = open(SMALL);
  await until(() => a.items.length >= 1, 30_000, 'the first watch to start');
  const b = open(SMALL);
  await b.done;
  t.equal(b.status, 503);
  t.equal(b.error.error.code, 'live_watches_busy');
  t.equal(b.error.error.type, 'server_busy');
  a.close();
  await a.done;
  const end = Date.now() + 10_000;
  let c;
  for (;;) {
    c = open(SMALL);
    await until(() => c!.status !== 0, 30_000, 'an answer');
    if (c.status === 200 || Date.now() > end) break;
    await c.done; // the first one's context is still being freed
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(c.status, 200, 'a new watch once the first one ended');
  c.close();
  await c.done;
});

t.test('two live watches with liveWatches: 2; shutdown ends them; bad live options are refused', { timeout: 120_000 }, async (t) => {
  const m = await tinyModels();
  const opts = { model: { model: m.model, mmproj: m.mmproj!, threads: 1 }, contextSize: 2048 };
  await t.rejects(createServer({ ...opts, live: { 'bad name': src } }), { code: 'ERR_INVALID_ARG' });
  await t.rejects(createServer({ ...opts, live: { cam: '' } }), { code: 'ERR_INVALID_ARG' });
  await t.rejects(createServer({ ...opts, liveWatches: 0 }), { code: 'ERR_INVALID_ARG' });
  const port2 = await freeUdpPort();
  const src2 = `udp://127.0.0.1:${port2}`;
  const cam2 = sender(src2, 60);
  t.teardown(() => { cam2.kill('SIGKILL'); });
  const two = await createServer({ ...opts, live: { a: src, b: src2 }, liveWatches: 2 });
  const base = await two.listen({ port: 0 });
  const a = open({ ...SMALL, name: 'a' }, base), b = open({ ...SMALL, name: 'b' }, base);
  await until(() => windowsOf(a.items).length >= 1 && windowsOf(b.items).length >= 1, 60_000, 'a window from each');
  t.equal(await metric('vidlm_live_watches', base), 2);
  const c = open({ ...SMALL, name: 'a' }, base);
  await c.done;
  t.equal(c.status, 503, 'a third is refused');
  const t0 = Date.now();
  await two.close();
  t.ok(Date.now() - t0 < 8000, `shutdown did not wait out its grace period for the live watches (${Date.now() - t0} ms)`);
  await Promise.all([a.done, b.done]);
  for (const w of [a, b]) t.match(w.items[w.items.length - 1], { type: 'error', error: { code: 'server_shutting_down' } }, 'each client is told why its watch ended');
});

t.test('vidlm serve --live name=url (repeatable) --live-watches N; a flag without a name is refused', async (t) => {
  const cli = await spawnServer(['--live', `cam=${src}`, '--live', 'door=rtsp://user:secret@10.0.0.9/stream', '--live-watches', '2']);
  t.teardown(() => cli.stop());
  const info = await (await fetch(`${cli.url}/ui/api/info`)).json() as any;
  t.same([info.live, info.live_watches], [['cam', 'door'], 2]);
  t.notOk(JSON.stringify(info).includes('secret'), 'credentials in a URL stay on the server');
  await t.rejects(spawnServer(['--live', src]), /ERR_INVALID_ARG.*name=url/);
});

t.test('with --api-key a live watch needs the key', async (t) => {
  const k = await startServer({ live: { cam: src }, apiKey: 'sesame' });
  t.teardown(() => k.server.close());
  const r = await fetch(`${k.url}/ui/api/live`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(SMALL) });
  t.equal(r.status, 401);
  t.equal((await r.json() as any).error.code, 'invalid_api_key');
  t.equal((await fetch(`${k.url}/metrics`)).status, 401, '/metrics needs the key too');
  const ok = await fetch(`${k.url}/metrics`, { headers: { authorization: 'Bearer sesame' } });
  t.match(await ok.text(), /^vidlm_live_watches 0$/m, 'and no watch started');
});

t.test('the M-RoPE pair (tiny Qwen2-VL): a live watch takes the native path, windows arrive', { timeout: 120_000 }, async (t) => {
  const m = await tinyModels();
  // its own sender: the file's shared one sends for 120 s from the start, which a slow run of the
  // tests above can outlast
  const port3 = await freeUdpPort();
  const src3 = `udp://127.0.0.1:${port3}`;
  const cam3 = sender(src3, 90);
  t.teardown(() => { cam3.kill('SIGKILL'); });
  const q = await startServer({ model: { model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 }, live: { cam: src3 } });
  t.teardown(() => q.server.close());
  const w = open(SMALL, q.url);
  await until(() => windowsOf(w.items).length >= 2 || w.items.some((x) => x.type === 'error') || w.status >= 400, 60_000, 'two windows of the M-RoPE pair');
  t.equal(w.status, 200, JSON.stringify(w.error));
  t.same(w.items.filter((x) => x.type === 'error'), [], 'no error event');
  const windows = windowsOf(w.items);
  if (windows.length < 2) { t.fail(`two windows arrived: ${JSON.stringify(w.items)}`); w.close(); await w.done; return; }
  const [a, b] = windows;
  t.ok(a.frames > 0 && b.windowEnd > a.windowEnd, `windows ${a.windowStart}–${a.windowEnd}, ${b.windowStart}–${b.windowEnd} s`);
  t.equal(a.encoded, a.frames, "native on the model's own time (the default): the window's frame pairs encoded before its prefill");
  w.close();
  await w.done;
  const end = Date.now() + 10_000;
  while (await metric('vidlm_live_watches', q.url) !== 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  t.equal(await metric('vidlm_live_watches', q.url), 0, 'and it stops with its client');
});
