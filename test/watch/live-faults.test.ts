// Issue 31, items 1 and 2: live sources that stall, send garbage or restart. Loopback streams
// made by the ffmpeg program (-re, MPEG-TS over UDP); each restart is a new ffmpeg process, so
// its timestamps start over as a restarted camera's or encoder's do. Answers come from a stub
// (frames are still sampled and windows scheduled by the real watch); every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import t from 'tap';
import type { WatchItem, WatchWindow } from '../../lib/index.js';
import { probeVideo } from '../../lib/index.js';
import { watchWith } from '../../lib/watch/watch.js';
import { isDiscontinuity } from '../../lib/video/live.js';
import { tinyModel } from '../inference/helpers.js';
import { colourSource } from './helpers.js';
import { freeUdpPort } from '../fixtures/ports.js';

const model = await tinyModel({ cache: false, threads: 1 });
t.teardown(() => model.dispose());

/** ffmpeg sending a 10 fps clip in real time as MPEG-TS to `url`; a new process starts its timestamps over. */
function serve(url: string, d: number): ChildProcess {
  const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', colourSource(d, [], 10),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '5', '-pix_fmt', 'yuv420p', '-f', 'mpegts', `${url}?pkt_size=1316`], { stdio: 'ignore' });
  p.on('error', () => undefined);
  return p;
}

/** Random datagrams to `port` for `ms` (100 a second, MPEG-TS packet-sized). */
async function garbage(port: number, ms: number): Promise<void> {
  const s = createSocket('udp4');
  const end = Date.now() + ms;
  while (Date.now() < end) {
    s.send(randomBytes(1316), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 10));
  }
  s.close();
}

const isWindow = (x: WatchItem): x is WatchWindow => x.type === 'window';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a 6-s stall, 1 s of garbage, then a restarted sender: a reconnect item and windows within 10 s', { timeout: 120_000 }, async (t) => {
  const port = await freeUdpPort();
  const url = `udp://127.0.0.1:${port}`;
  let sender = serve(url, 120);
  t.teardown(() => { sender.kill('SIGKILL'); });
  const w = watchWith(url, { model, every: 1, window: 2, fps: 2, timeout: 2, backoff: 0.2, maxBackoff: 1 }, { answer: () => 'ok' });
  const items: { x: WatchItem; at: number }[] = [];
  let back = 0; // when the valid stream came back
  const fault = (async () => {
    while (items.filter((i) => isWindow(i.x)).length < 3) await sleep(100);
    sender.kill('SIGKILL');
    await sleep(6000);
    await garbage(port, 1000);
    sender = serve(url, 120);
    back = Date.now();
  })();
  const deadline = setTimeout(() => { void w.stop(); }, 60_000);
  for await (const x of w) {
    items.push({ x, at: Date.now() });
    if (back && isWindow(x) && x.frames > 0 && items.some((i) => i.at >= back && isWindow(i.x)) && items.filter((i) => i.at >= back && isWindow(i.x)).length >= 3) break;
  }
  clearTimeout(deadline);
  await fault;
  const after = items.filter((i) => back && i.at >= back && isWindow(i.x));
  t.ok(after.length >= 3, `${after.length} windows after the sender came back`);
  const first = after[0];
  t.ok(first && first.at - back < 10_000, `the first window ${first ? ((first.at - back) / 1000).toFixed(1) : '—'} s after the valid stream came back`);
  const r = items.find((i) => i.x.type === 'reconnect');
  t.ok(r, 'a reconnect item');
  const ends = items.filter((i) => isWindow(i.x)).map((i) => (i.x as WatchWindow).windowEnd);
  t.same(ends, [...ends].sort((a, b) => a - b), 'the watch timeline keeps increasing');
});

t.test('garbage with no silence (5 s of it, timeout 2): no frame is a stall, so a reconnect, then windows again', { timeout: 120_000 }, async (t) => {
  const port = await freeUdpPort();
  const url = `udp://127.0.0.1:${port}`;
  let sender = serve(url, 120);
  t.teardown(() => { sender.kill('SIGKILL'); });
  const w = watchWith(url, { model, every: 1, window: 2, fps: 2, timeout: 2, backoff: 0.2, maxBackoff: 1 }, { answer: () => 'ok' });
  const items: { x: WatchItem; at: number }[] = [];
  let back = 0;
  const fault = (async () => {
    while (items.filter((i) => isWindow(i.x)).length < 3) await sleep(100);
    sender.kill('SIGKILL');
    await garbage(port, 5000); // bytes keep arriving: FFmpeg's per-read timeout never fires
    sender = serve(url, 120);
    back = Date.now();
  })();
  const deadline = setTimeout(() => { void w.stop(); }, 60_000);
  for await (const x of w) {
    items.push({ x, at: Date.now() });
    if (back && items.filter((i) => i.at >= back && isWindow(i.x)).length >= 2) break;
  }
  clearTimeout(deadline);
  await fault;
  const r = items.find((i) => i.x.type === 'reconnect');
  t.ok(r, `a reconnect item (reason: ${r?.x.type === 'reconnect' ? r.x.reason : '—'})`);
  t.ok(r?.x.type === 'reconnect' && r.x.gap > 1, 'after the gap the garbage made');
  const after = items.filter((i) => back && i.at >= back && isWindow(i.x));
  t.ok(after.length >= 2 && after[0]!.at - back < 10_000, `windows again ${after[0] ? ((after[0].at - back) / 1000).toFixed(1) : '—'} s after the valid stream came back`);
});

t.test('an encoder restart (timestamps start over, no stall): a discontinuity item and the next window within every + 2 s', { timeout: 120_000 }, async (t) => {
  const port = await freeUdpPort();
  const url = `udp://127.0.0.1:${port}`;
  let sender = serve(url, 120);
  t.teardown(() => { sender.kill('SIGKILL'); });
  const every = 1;
  // timeout 10: the restart must be caught as a discontinuity, not as a stall
  const w = watchWith(url, { model, every, window: 2, fps: 2, timeout: 10, backoff: 0.2, maxBackoff: 1 }, { answer: () => 'ok' });
  const items: { x: WatchItem; at: number }[] = [];
  let restarted = 0;
  const fault = (async () => {
    while (items.filter((i) => isWindow(i.x)).length < 8) await sleep(100); // ~8 s of stream: the old code waited that long
    sender.kill('SIGKILL');
    sender = serve(url, 120);
    restarted = Date.now();
  })();
  const deadline = setTimeout(() => { void w.stop(); }, 60_000);
  for await (const x of w) {
    items.push({ x, at: Date.now() });
    if (restarted && items.filter((i) => i.at > restarted && isWindow(i.x)).length >= 3) break;
    if (restarted && Date.now() - restarted > 20_000) break;
  }
  clearTimeout(deadline);
  await fault;
  const after = items.filter((i) => i.at > restarted && isWindow(i.x));
  t.ok(after.length >= 3, `${after.length} windows after the restart`);
  // the last window before the restart, and the first one after it: no gap longer than every + 2 s
  const before = items.filter((i) => i.at <= restarted && isWindow(i.x)).at(-1)!;
  const gap = (after[0]?.at ?? Infinity) - Math.max(before.at, restarted);
  t.ok(gap < (every + 2) * 1000, `the next window ${(gap / 1000).toFixed(1)} s after the restart (every + 2 = ${every + 2} s)`);
  const d = items.find((i) => i.x.type === 'discontinuity');
  t.ok(d, 'a discontinuity item');
  if (d && d.x.type === 'discontinuity') {
    t.ok(d.x.streamTo < d.x.streamFrom, `the stream clock went back: ${d.x.streamFrom.toFixed(2)} → ${d.x.streamTo.toFixed(2)}`);
    t.ok(d.x.at >= (before.x as WatchWindow).windowEnd - every, `at ${d.x.at.toFixed(2)} on the watch timeline, after the windows before it`);
    t.ok(d.x.gap > 0 && d.x.gap < every + 2, `the watch time went on with the wall clock: a gap of ${d.x.gap.toFixed(2)} s`);
  }
  const ends = items.filter((i) => isWindow(i.x)).map((i) => (i.x as WatchWindow).windowEnd);
  t.same(ends, [...ends].sort((a, b) => a - b), 'the watch timeline keeps increasing across the restart');
  t.notOk(items.some((i) => i.x.type === 'reconnect'), 'no reconnect: the connection went on');
});

t.test('probing a live URL that sends only garbage ends with a coded error within its deadline', { timeout: 60_000 }, async (t) => {
  const port = await freeUdpPort();
  const url = `udp://127.0.0.1:${port}`;
  let stop = false;
  const noise = (async () => { while (!stop) await garbage(port, 200); })();
  const t0 = Date.now();
  const e = await probeVideo(url, { timeout: 2 }).then(() => null, (x: unknown) => x);
  const took = (Date.now() - t0) / 1000;
  stop = true;
  await noise;
  t.ok(e && /^ERR_VIDEO_(TIMEOUT|OPEN)$/.test((e as { code: string }).code), `coded: ${(e as Error)?.message}`);
  t.ok(took < 2 * 2 + 1.5, `gave up after ${took.toFixed(1)} s (timeout 2 s)`);
});

t.test('what counts as a discontinuity, by hand', async (t) => {
  const prev = { st: 100, wall: 1_000_000 };
  t.notOk(isDiscontinuity(prev, 100.1, 1_000_100, 5), 'a frame 0.1 s on, 0.1 s later');
  t.notOk(isDiscontinuity(prev, 100, 1_000_000, 5), 'the same time again (jitter)');
  t.ok(isDiscontinuity(prev, 1.4, 1_000_040, 5), 'the clock started over');
  t.ok(isDiscontinuity(prev, 99.9, 1_000_040, 5), 'any step back');
  t.notOk(isDiscontinuity(prev, 104, 1_000_000, 5), '4 s ahead at once: a burst after a short stall, within maxJump');
  t.ok(isDiscontinuity(prev, 106, 1_000_500, 5), '6 s ahead in 0.5 s: beyond maxJump');
  t.notOk(isDiscontinuity(prev, 130, 1_028_000, 5), '30 s ahead after 28 s of silence: the stream kept its clock');
});
