/**
 * Live sampling happens in the addon: of a 30 fps stream sampled at 1 fps, only the frames kept
 * are converted to RGB and cross into JavaScript (the others are decoded and dropped natively,
 * their times still checked for discontinuities). The counter clip numbers its frames, so the
 * kept ones are checked to be 30 frames apart; the addon's conversion counter must advance by
 * exactly the frames kept (it advanced by every decoded frame when TypeScript sampled).
 */
import { spawn } from 'node:child_process';
import t from 'tap';
import { live, type LiveFrame } from '../../lib/video/index.js';
import { native } from '../../lib/native.js';
import { counterSource, readCounter } from '../fixtures/media.js';
import { freeUdpPort } from '../fixtures/ports.js';

t.test('a 30 fps live source sampled at 1 fps converts only the frames it keeps', { timeout: 90_000 }, async (t) => {
  const port = await freeUdpPort();
  const url = `udp://127.0.0.1:${port}`;
  const stream = live(url, { fps: 1, window: 60, timeout: 5, threads: 1 });
  const before = native().videoCounters().conversions;
  const sender = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', counterSource(30, 0, 30),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15', '-pix_fmt', 'yuv420p', '-f', 'mpegts', `${url}?pkt_size=1316`], { stdio: 'ignore' });
  sender.on('error', () => undefined);
  t.teardown(() => { sender.kill('SIGKILL'); });
  const got: LiveFrame[] = [];
  const stop = setTimeout(() => { void stream.close(); }, 60_000);
  for await (const f of stream) {
    got.push(f);
    if (got.length === 6) break;
  }
  clearTimeout(stop);
  await stream.close();
  const converted = native().videoCounters().conversions - before;
  t.equal(got.length, 6, 'six frames kept');
  t.equal(stream.stats.frames, got.length, 'none kept beyond those read');
  t.equal(converted, stream.stats.frames, `${converted} pictures converted for ${stream.stats.frames} frames kept`);
  const counters = got.map((f) => readCounter(f));
  for (let i = 1; i < got.length; i++) {
    t.equal(counters[i]! - counters[i - 1]!, 30, `frames ${counters[i - 1]} and ${counters[i]}: one second of a 30 fps stream apart`);
    t.ok(Math.abs(got[i]!.streamTime - got[i - 1]!.streamTime - 1) < 1e-3, 'one second apart by the stream clock');
  }
  t.equal(stream.stats.discontinuities, 0);
});
