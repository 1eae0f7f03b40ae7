// watch() on streams served on 127.0.0.1 by the ffmpeg program in real time (-re): windows at
// the stream's times, a colour change seen where it is, a stall and a server restart that give
// reconnect items while the watch goes on. Answers come from a stub (frames are still encoded
// by the tiny model); every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import t from 'tap';
import type { WatchEvent, WatchItem, WatchReconnect, WatchWindow } from '../../lib/index.js';
import { watchWith } from '../../lib/watch/watch.js';
import { tinyModel } from '../inference/helpers.js';
import { colourSource, isRed } from './helpers.js';
import { freeTcpPort, freeUdpPort } from '../fixtures/ports.js';

const model = await tinyModel({ cache: false, threads: 1 });
t.teardown(() => model.dispose());

/** ffmpeg sending the colour clip in real time as MPEG-TS to `out`. */
function serve(out: string, d: number, red: [number, number][], extra: string[] = []): ChildProcess {
  const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', colourSource(d, red, 10),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '5', '-pix_fmt', 'yuv420p', ...extra, '-f', 'mpegts', out], { stdio: 'ignore' });
  p.on('error', () => undefined);
  return p;
}

const isWindow = (x: WatchItem): x is WatchWindow => x.type === 'window';

t.test('udp: windows at the stream\'s times, the colour changes seen 10 s apart on the stream clock, debounced events', { timeout: 120_000 }, async (t) => {
  const port = await freeUdpPort();
  const url = `udp://127.0.0.1:${port}`;
  const every = 2, window = 4, fps = 2;
  const redTimes: number[] = []; // stream times of red frames, as the stub saw them
  const w = watchWith(url, { model, every, window, fps, timeout: 2, backoff: 0.2, when: 'the screen turns red' }, {
    answer: (q) => {
      for (const f of q.frames) if (isRed(f) && !redTimes.includes(f.streamTime)) redTimes.push(f.streamTime);
      return q.frames.some(isRed) ? 'yes' : 'no';
    },
  });
  const sender = serve(`${url}?pkt_size=1316`, 30, [[8, 12], [18, 22]]);
  t.teardown(() => { sender.kill('SIGKILL'); });
  const items: WatchItem[] = [];
  const arrived: number[] = [];
  for await (const x of w) {
    items.push(x);
    if (isWindow(x)) arrived.push(Date.now());
    if (isWindow(x) && x.windowEnd >= 24) break;
  }
  const wins = items.filter(isWindow);
  t.equal(w.context, null, 'a stub answers: no context');
  for (let i = 0; i < wins.length; i++) {
    const x = wins[i]!;
    t.equal(x.windowEnd % every, 0, `window ${i} ends at ${x.windowEnd}, a multiple of every`);
    for (const v of x.frameTimes) t.ok(v >= x.windowStart - 1e-6 && v < x.windowEnd, `frame at ${v} in [${x.windowStart}, ${x.windowEnd})`);
    t.ok(x.frames <= window * fps + 1, `${x.frames} frames`);
    const s = x.streamEnd! - x.streamStart!;
    t.ok(Math.abs(s - (x.frameTimes[x.frameTimes.length - 1]! - x.frameTimes[0]!)) < 0.25, 'the watch timeline follows the stream clock');
  }
  // windows come as the stream plays: about `every` seconds of wall time apart
  const gaps = arrived.slice(1).map((a, i) => (a - arrived[i]!) / 1000);
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  t.ok(Math.abs(mean - every) < 0.6, `windows ${mean.toFixed(2)} s apart on the wall clock`);
  // the two red runs start 10 s apart and last 4 s on the stream's own clock
  const runs: number[][] = [];
  for (const v of [...redTimes].sort((a, b) => a - b)) {
    const last = runs[runs.length - 1];
    if (last && v - last[last.length - 1]! < 1) last.push(v); else runs.push([v]);
  }
  t.equal(runs.length, 2, `two red runs (${runs.map((r) => `${r[0]}–${r[r.length - 1]}`).join(', ')})`);
  t.ok(Math.abs(runs[1]![0]! - runs[0]![0]! - 10) < 0.6, 'the second run starts 10 s after the first');
  for (const r of runs) t.ok(Math.abs(r[r.length - 1]! - r[0]! - 3.5) < 0.6, 'each lasts 4 s (8 frames at 2 fps)');
  const events = items.filter((x): x is WatchEvent => x.type === 'event');
  t.equal(events.length, 2, 'one event per red run');
  t.ok(Math.abs(events[1]!.windowEnd - events[0]!.windowEnd - 10) <= every, 'events 10 s apart on the watch timeline');
});

t.test('udp: a stalled sender gives a reconnect item and the watch goes on', { timeout: 120_000 }, async (t) => {
  const port = await freeUdpPort();
  const url = `udp://127.0.0.1:${port}`;
  const w = watchWith(url, { model, every: 1, window: 2, fps: 2, timeout: 1, backoff: 0.2, maxBackoff: 0.5 }, { answer: () => 'ok' });
  const sender = serve(`${url}?pkt_size=1316`, 60, []);
  t.teardown(() => { sender.kill('SIGKILL'); });
  const items: WatchItem[] = [];
  let stalled = false;
  for await (const x of w) {
    items.push(x);
    if (!stalled && items.filter(isWindow).length === 3) {
      stalled = true;
      sender.kill('SIGSTOP');
      setTimeout(() => sender.kill('SIGCONT'), 3000);
    }
    const r = items.findIndex((i) => i.type === 'reconnect');
    if (r >= 0 && items.slice(r).filter(isWindow).length >= 3) break;
  }
  const r = items.find((i): i is WatchReconnect => i.type === 'reconnect')!;
  t.ok(r, 'a reconnect item');
  t.ok(r.connection >= 1, `connection ${r.connection} (live() numbers its attempts: one may fail while the sender is frozen)`);
  t.ok(r.gap > 1, `a gap of ${r.gap.toFixed(2)} s on the watch timeline`);
  t.ok(r.reason && /timed out|timeout|did not open|ended/i.test(r.reason), `reason: ${r.reason}`);
  const after = items.slice(items.indexOf(r) + 1).filter(isWindow);
  t.ok(after.length >= 3 && after[0]!.windowEnd > r.at - 1, 'windows go on after it');
  t.equal(w.stats.reconnects, 1, 'one reconnect item for one outage');
});

t.test('http: the server goes away and comes back; the watch reports the reconnect and goes on; stop() ends it', { timeout: 120_000 }, async (t) => {
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}/live.ts`;
  let server = serve(url, 60, [], ['-listen', '1']);
  t.teardown(() => { server.kill('SIGKILL'); });
  await new Promise((r) => setTimeout(r, 500));
  const w = watchWith(url, { model, every: 1, window: 2, fps: 1, timeout: 2, backoff: 0.2, maxBackoff: 0.5, retries: 60 }, { answer: () => 'ok' });
  const items: WatchItem[] = [];
  let killed = false;
  for await (const x of w) {
    items.push(x);
    if (!killed && items.filter(isWindow).length === 2) {
      killed = true;
      server.kill('SIGKILL');
      setTimeout(() => { server = serve(url, 60, [], ['-listen', '1']); }, 1500);
    }
    const r = items.findIndex((i) => i.type === 'reconnect');
    if (r >= 0 && items.slice(r).filter(isWindow).length >= 2) await w.stop();
  }
  const r = items.findIndex((i) => i.type === 'reconnect');
  t.ok(r > 0, 'a reconnect item, not an exception');
  t.ok(items.slice(r).filter(isWindow).length >= 2, 'windows after the reconnect');
  const ends = items.filter(isWindow).map((x) => x.windowEnd);
  t.same(ends, [...ends].sort((a, b) => a - b), 'the timeline keeps increasing across the reconnect');
});
