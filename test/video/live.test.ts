/**
 * Live sources served on loopback by the ffmpeg program: sampling, rolling window, a stalled
 * sender, a server that goes away and comes back, AbortSignal. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import t from 'tap';
import { live, type LiveFrame } from '../../lib/video/index.js';
import { readCounter } from '../fixtures/media.js';
import { counterSource } from '../fixtures/media.js';
import { freeTcpPort, freeUdpPort } from '../fixtures/ports.js';

/** ffmpeg sending the counter clip in real time (-re) as MPEG-TS to `out`. */
function serve(out: string, extra: string[] = []): ChildProcess {
  const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', counterSource(40, 0, 25), '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '10', '-pix_fmt', 'yuv420p', ...extra, '-f', 'mpegts', out], { stdio: 'ignore' });
  p.on('error', () => undefined);
  return p;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return cond();
}

t.test('udp: frames at 2 fps, rolling window, stall and recovery, abort', { timeout: 90_000 }, async (tt) => {
  const port = await freeUdpPort();
  const url = `udp://127.0.0.1:${port}`;
  const ac = new AbortController();
  const stream = live(url, { fps: 2, window: 2, timeout: 1, backoff: 0.2, size: [96, 64], signal: ac.signal });
  const sender = serve(`${url}?pkt_size=1316`);
  tt.teardown(() => { sender.kill('SIGKILL'); });
  const got: LiveFrame[] = [];
  let stalled = false;
  // the connection the stall interrupts: on a loaded machine the first connection may already
  // have timed out once, so "after the stall" means a later connection than this one
  let stallConnection = Infinity;
  for await (const f of stream) {
    got.push(f);
    if (got.length === 5 && !stalled) {
      // freeze the sender: the source stalls, live() times out and reconnects
      stalled = true;
      stallConnection = f.connection;
      sender.kill('SIGSTOP');
      tt.ok(await until(() => stream.stats.failures >= 1, 20_000), 'stall detected');
      sender.kill('SIGCONT');
    }
    if (got.filter((g) => g.connection > stallConnection).length >= 3) break;
    if (got.length > 60) break;
  }
  tt.ok(got.length >= 8, `${got.length} frames`);
  const first = got.filter((f) => f.connection === 0);
  for (let i = 1; i < Math.min(first.length, 5); i++) {
    const d = first[i]!.streamTime - first[i - 1]!.streamTime;
    tt.ok(d > 0.45 && d < 0.55, `2 fps by the stream clock (${d.toFixed(3)} s)`);
    tt.equal(readCounter(first[i]!, (x, y) => [Math.floor((x * 96) / 384), Math.floor((y * 64) / 256)]) - readCounter(first[i - 1]!, (x, y) => [Math.floor((x * 96) / 384), Math.floor((y * 64) / 256)]), Math.round(d * 25), 'the counter advanced by 12 or 13 frames');
  }
  for (const f of got) {
    tt.equal(f.width, 96);
    tt.equal(f.rgb.length, 96 * 64 * 3);
    tt.ok(f.wallTime > 0);
  }
  tt.ok(stream.stats.reconnects >= 1, `reconnected (${stream.stats.reconnects})`);
  tt.ok(got.some((f) => f.connection > stallConnection), 'frames after the stall');
  const w = stream.window();
  tt.ok(w.length >= 1 && w[w.length - 1]!.t - w[0]!.t <= 2, 'window keeps at most 2 s');
  ac.abort();
  await stream.close();
  tt.equal(stream.stats.connected, false);
});

t.test('http: the server goes away and comes back; close() ends the iteration', { timeout: 90_000 }, async (tt) => {
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}/live.ts`;
  let server = serve(url, ['-listen', '1']);
  tt.teardown(() => { server.kill('SIGKILL'); });
  await new Promise((r) => setTimeout(r, 500));
  const stream = live(url, { fps: 1, window: 10, timeout: 2, backoff: 0.2, maxBackoff: 0.5, retries: 60, size: 32 });
  const it = stream[Symbol.asyncIterator]();
  const a = await it.next();
  tt.equal(a.done, false);
  // the first frame's connection: 0, or later when the sender was not listening yet (a loaded machine)
  const before = a.value!.connection;
  server.kill('SIGKILL');
  tt.ok(await until(() => stream.stats.failures >= 1, 20_000), 'the loss is noticed');
  server = serve(url, ['-listen', '1']);
  let b: IteratorResult<LiveFrame>;
  do b = await it.next(); while (!b.done && b.value.connection === before);
  tt.equal(b.done, false);
  tt.ok(b.value!.connection > before, 'frames from the new connection');
  tt.ok(stream.stats.reconnects >= 1);
  tt.ok(b.value!.t > a.value!.t, 'session time keeps increasing across reconnects');
  await stream.close();
  const c = await it.next();
  tt.equal(c.done, true, 'closed: iteration ends');
});

t.test('a source that never comes: gives up after the retries with ERR_VIDEO_TIMEOUT', { timeout: 60_000 }, async (tt) => {
  const port = await freeUdpPort();
  const stream = live(`udp://127.0.0.1:${port}`, { timeout: 0.3, retries: 2, backoff: 0.05 });
  await tt.rejects((async () => { for await (const _ of stream) { /* nothing arrives */ } })(), { code: 'ERR_VIDEO_TIMEOUT' });
  await stream.close();
});

t.test('live() checks its input at once', async (tt) => {
  for (const bad of [undefined, null, '', 42, {}]) {
    tt.throws(() => live(bad as never), { code: 'ERR_INVALID_ARG' }, `live(${JSON.stringify(bad)}) throws instead of retrying forever`);
  }
  tt.throws(() => live('udp://127.0.0.1:9', { fps: 0 }), { code: 'ERR_INVALID_ARG' });
  tt.throws(() => live('udp://127.0.0.1:9', { retries: -1 }), { code: 'ERR_INVALID_ARG' });
  tt.throws(() => live('udp://127.0.0.1:9', { threads: -1 }), { code: 'ERR_INVALID_ARG' });
});

t.test('abort listeners stay flat over 5,000 live frames', { timeout: 300_000 }, async (tt) => {
  const { getEventListeners } = (await import('node:events')).default; // the types have it on EventEmitter only
  const { media } = await import('../fixtures/media.js');
  const warnings: string[] = [];
  const onWarning = (w: Error): void => { warnings.push(w.name); };
  process.on('warning', onWarning);
  tt.teardown(() => { process.off('warning', onWarning); });
  const ac = new AbortController();
  // a file read as a live source: as fast as it decodes, reopened at its end
  const stream = live(await media.long(), { fps: 1000, size: [16, 16], backoff: 0, signal: ac.signal });
  let n = 0;
  let at100 = -1;
  let at5000 = -1;
  for await (const f of stream) {
    void f;
    n++;
    if (n === 100) at100 = getEventListeners(ac.signal, 'abort').length;
    if (n === 5000) { at5000 = getEventListeners(ac.signal, 'abort').length; break; }
  }
  tt.equal(n, 5000);
  tt.ok(stream.stats.reconnects >= 1, `the file was reopened ${stream.stats.reconnects} times`);
  // one for the stream's life, plus one while a native read is in flight
  tt.ok(at100 >= 1 && at5000 <= 2 && at5000 <= at100 + 1, `the caller's signal holds ${at5000} listener(s) after 5,000 frames (${at100} after 100)`);
  tt.same(warnings.filter((w) => w === 'MaxListenersExceededWarning'), [], 'no MaxListenersExceededWarning');
});

t.test('a slow consumer skips frames that left the window, and stats.dropped counts them', { timeout: 120_000 }, async (tt) => {
  const { media } = await import('../fixtures/media.js');
  // a file read as a live source decodes far faster than this consumer takes frames
  const stream = live(await media.long(), { fps: 1000, window: 0.5, size: [16, 16], backoff: 0 });
  const seen: number[] = [];
  for await (const f of stream) {
    seen.push(f.index);
    if (seen.length === 20) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  tt.same(seen, [...seen].sort((a, b) => a - b), 'frames come in order');
  const skipped = seen[seen.length - 1]! + 1 - seen.length;
  tt.ok(stream.stats.dropped > 0, `${stream.stats.dropped} frames dropped`);
  tt.equal(stream.stats.dropped, skipped, 'dropped = the frames the consumer never saw (gaps in the indices)');
  const w = stream.window();
  tt.ok(w.length > 0 && w[w.length - 1]!.t - w[0]!.t <= 0.5 + 1e-6, 'the window holds at most 0.5 s of frames');
});
