/** Every failure with real bad media and bad sources: a stable code, no crash. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { openVideo, probeVideo } from '../../lib/video/index.js';
import { MEDIA_DIR, counterSource, media, readCounter } from '../fixtures/media.js';

/** A TCP server on loopback that accepts connections and never answers; closed at teardown. */
async function silentServer(tt: Test): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => { sockets.add(s); s.on('error', () => undefined); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  tt.teardown(() => { for (const s of sockets) s.destroy(); server.close(); });
  return (server.address() as { port: number }).port;
}

t.test('missing file, directory, not media', async (tt) => {
  await tt.rejects(openVideo('/nonexistent/clip.mp4'), { code: 'ERR_VIDEO_OPEN', details: { reason: 'not-found' } });
  await tt.rejects(openVideo('/tmp'), { code: 'ERR_VIDEO_OPEN' });
  await tt.rejects(openVideo(await media.notMedia()), { code: 'ERR_VIDEO_OPEN', details: { reason: 'not-media' } });
  await tt.rejects(openVideo(new Uint8Array(0)), { code: 'ERR_VIDEO_OPEN' });
  await tt.rejects(openVideo(Buffer.from('not a video at all, just some text'.repeat(100))), { code: 'ERR_VIDEO_OPEN' });
  // failed opens free everything and never crash; open many
  for (let i = 0; i < 40; i++) await tt.rejects(probeVideo(await media.notMedia()), { code: 'ERR_VIDEO_OPEN' });
});

t.test('a FIFO: refused as what it is (it said "empty file"), without waiting for a writer', async (tt) => {
  const dir = mkdtempSync(join(tmpdir(), 'vidlm-fifo-'));
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'clip.mp4');
  tt.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo made the FIFO');
  await tt.rejects(openVideo(fifo), { code: 'ERR_VIDEO_OPEN', message: /not a regular file/, details: { reason: 'not-media' } });
  await tt.rejects(probeVideo(fifo), { code: 'ERR_VIDEO_OPEN', message: /not a regular file/ });
});

t.test('a raw H.264 stream (.h264: no timestamps): a coded error that says so', async (tt) => {
  const raw = join(MEDIA_DIR, 'raw.h264');
  if (!existsSync(raw)) {
    const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', counterSource(1), '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-f', 'h264', raw]);
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  }
  const v = await openVideo(raw);
  tt.teardown(() => v.close());
  tt.equal(v.probe.video?.codec, 'h264', 'it opens and probes');
  await tt.rejects(v.sample({ uniform: 4 }), { code: 'ERR_VIDEO_DECODE', message: /no timestamps/, details: { reason: 'no-timestamps', packets: 30 } }, 'it was ERR_VIDEO_EMPTY: "a video stream without frames"');
});

t.test('an old FLV (Sorenson H.263, no decoder in the build): unsupported-codec, not "no picture size (unsupported or corrupt)"', async (tt) => {
  const flv = join(MEDIA_DIR, 'sorenson.flv');
  if (!existsSync(flv)) {
    const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc=s=160x120:r=10:d=1', '-c:v', 'flv', flv]);
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  }
  await tt.rejects(openVideo(flv), { code: 'ERR_VIDEO_DECODE', message: /no decoder for flv1 video/, details: { reason: 'unsupported-codec', codec: 'flv1' } });
});

t.test('truncated files', async (tt) => {
  // index intact, data cut: opening works, frames past the cut fail with ERR_VIDEO_DECODE
  const v = await openVideo(await media.truncated());
  tt.teardown(() => v.close());
  const early = await v.sample({ times: [0.2] });
  tt.equal(early.length, 1, 'frames before the cut decode');
  await tt.rejects(v.sample({ uniform: 8 }), { code: 'ERR_VIDEO_DECODE', details: { reason: 'truncated' } });
  // index cut off: cannot be opened
  await tt.rejects(openVideo(await media.truncatedNoIndex()), { code: 'ERR_VIDEO_OPEN' });
});

t.test('corrupt media data: concealed, counted, the intact frames right', async (tt) => {
  // bytes 40-55 % of the H.264 clip are garbage (media.corrupt): its packets fail to decode
  const v = await openVideo(await media.corrupt());
  tt.teardown(() => v.close());
  const all = await v.sample({ all: true });
  tt.equal(all.length, 120, 'every frame of the plan comes back (FFmpeg conceals, as the ffmpeg program does)');
  tt.ok(v.stats.decodeErrors > 0, `the corruption was hit: ${v.stats.decodeErrors} packets failed`);
  const intact = all.filter((f) => f.index < 30);
  tt.same(intact.map((f) => readCounter(f)), intact.map((f) => f.index), 'frames before the damage show their own counter');
});

t.test('no video stream', async (tt) => {
  const audio = await media.audioOnly();
  await tt.rejects(openVideo(audio), { code: 'ERR_VIDEO_NO_STREAM', details: { hasAudio: true } });
  const v = await openVideo(audio, { allowAudioOnly: true });
  tt.teardown(() => v.close());
  tt.equal(v.probe.video, null);
  tt.equal(v.probe.audio!.codec, 'aac');
  await tt.rejects(v.sample({ uniform: 4 }), { code: 'ERR_VIDEO_NO_STREAM' });
  const noAudio = await openVideo(await media.noAudio());
  tt.teardown(() => noAudio.close());
  await tt.rejects(noAudio.audio(), { code: 'ERR_VIDEO_NO_STREAM' });
});

t.test('zero duration', async (tt) => {
  await tt.rejects(openVideo(await media.zero()), { code: 'ERR_VIDEO_EMPTY' });
});

t.test('more frames than exist: clamped with a warning, not a failure', async (tt) => {
  const v = await openVideo(await media.h264());
  tt.teardown(() => v.close());
  const f = await v.sample({ uniform: 1000 }, { size: 32 });
  tt.equal(f.length, 120);
  tt.match(f.warning, /asked for 1000 frames but the video has 120/);
  const late = await v.sample({ times: [100] }, { size: 32 });
  tt.equal(late[0]!.index, 119);
  tt.match(late.warning, /after the video's last frame/);
});

t.test('bad arguments', async (tt) => {
  const v = await openVideo(await media.h264());
  await tt.rejects(v.sample({ uniform: -3 }), { code: 'ERR_INVALID_ARG' });
  await tt.rejects(v.sample({ uniform: 2 }, { size: 'huge' }), { code: 'ERR_INVALID_ARG' });
  await tt.rejects(v.audio({ sampleRate: 12 }), { code: 'ERR_INVALID_ARG' });
  const ac = new AbortController();
  ac.abort();
  await tt.rejects(v.sample({ uniform: 2 }, { signal: ac.signal }), { code: 'ERR_ABORTED' });
  await v.close();
  await tt.rejects(v.sample({ uniform: 2 }), { code: 'ERR_DISPOSED' });
  await v.close(); // twice is fine
});

t.test('unreachable URLs fail fast with a short timeout', async (tt) => {
  // a server that accepts and never answers: the request stalls
  const port = await silentServer(tt);
  await tt.rejects(openVideo(`http://127.0.0.1:${port}/clip.mp4`, { timeout: 0.5 }), { code: 'ERR_VIDEO_TIMEOUT' });
  // nobody sends to this UDP port
  await tt.rejects(openVideo(`udp://127.0.0.1:${port + 1}`, { timeout: 0.5 }), { code: 'ERR_VIDEO_TIMEOUT' });
  // a closed port: refused at once
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  await tt.rejects(openVideo(`http://127.0.0.1:${closedPort}/clip.mp4`, { timeout: 0.5 }), { code: 'ERR_VIDEO_OPEN', details: { reason: 'unreachable' } });
});

t.test('a Buffer source works like its file', async (tt) => {
  const bytes = await readFile(await media.h264());
  const v = await openVideo(bytes);
  tt.teardown(() => v.close());
  tt.match(v.probe.source, /^<buffer \d+ bytes>$/);
  const f = await v.sample({ uniform: 3 }, { size: 32 });
  tt.same(f.map((x) => x.index), [0, 59, 119]);
});

t.test('close() inside a frames() loop does not deadlock', async (tt) => {
  const v = await openVideo(await media.h264());
  const seen: number[] = [];
  await tt.rejects((async () => {
    for await (const f of v.frames({ uniform: 4 }, { size: 32 })) {
      seen.push(f.index);
      await v.close();
    }
  })(), { code: 'ERR_DISPOSED' });
  tt.same(seen, [0]);
  const w = await openVideo(await media.h264());
  for await (const f of w.frames({ uniform: 4 }, { size: 32 })) { if (f.index > 0) break; }
  tt.equal((await w.sample({ times: [1] }, { size: 32 }))[0]!.index, 30, 'breaking out releases the source');
  await w.close();
});

t.test('http errors, redirect loops, https and unused FFmpeg options are coded', async (tt) => {
  // every request is redirected to itself: FFmpeg gives up after its redirect limit
  const server = createHttpServer((req, res) => {
    if (req.url === '/gone.mp4') { res.writeHead(404); res.end(); return; }
    res.writeHead(302, { location: req.url ?? '/' });
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  tt.teardown(() => { server.close(); });
  const t0 = Date.now();
  const loop = await openVideo(`http://127.0.0.1:${port}/loop.mp4`, { timeout: 5 }).catch((e: unknown) => e);
  tt.match(loop, { code: 'ERR_VIDEO_OPEN' }, 'a redirect loop is an open failure, not a timeout');
  tt.ok(Date.now() - t0 < 4000, 'and it is reported at once');
  await tt.rejects(openVideo(`http://127.0.0.1:${port}/gone.mp4`, { timeout: 5 }), { code: 'ERR_VIDEO_OPEN', details: { reason: 'http-error' } });
  await tt.rejects(openVideo('https://127.0.0.1:9/clip.mp4', { timeout: 1 }), { code: 'ERR_VIDEO_OPEN', details: { reason: 'protocol' } });
  await tt.rejects(openVideo(await media.h264(), { ffmpegOptions: { no_such_option: 1 } }), { code: 'ERR_INVALID_ARG', details: { reason: 'option' } });
  for (const bad of [{ threads: -1 }, { threads: 1.5 }, { timeout: 0 }, { maxPixels: 0 }, { format: '' }]) {
    await tt.rejects(openVideo(await media.h264(), bad as never), { code: 'ERR_INVALID_ARG' }, JSON.stringify(bad));
  }
});

t.test('an abort or close() interrupts a blocked network read at once', async (tt) => {
  // a server that accepts and never answers: the request stalls
  const port = await silentServer(tt);
  const ac = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ac.abort(), 200);
  await tt.rejects(openVideo(`http://127.0.0.1:${port}/clip.mp4`, { timeout: 30, signal: ac.signal }), { code: 'ERR_ABORTED' });
  tt.ok(Date.now() - t0 < 3000, `aborted after ${Date.now() - t0} ms, not after the 30 s timeout`);
});

t.test('FFmpeg libraries missing: video calls fail with ERR_NATIVE_LOAD, the process lives on', async (tt) => {
  const { spawnSync } = await import('node:child_process');
  const lib = new URL('../../dist/video/index.js', import.meta.url).href;
  const script = `const v = await import(${JSON.stringify(lib)});
    const codes = [];
    for (let i = 0; i < 2; i++) await v.openVideo(${JSON.stringify(await media.h264())}).then(() => codes.push('opened'), (e) => codes.push(e.code + ': ' + e.message));
    console.log(JSON.stringify(codes));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, VIDLM_FFMPEG_DIR: '/nonexistent-vidlm-ffmpeg' } });
  tt.equal(r.status, 0, r.stderr);
  const codes = JSON.parse(r.stdout) as string[];
  tt.equal(codes.length, 2);
  for (const c of codes) tt.match(c, /^ERR_NATIVE_LOAD: FFmpeg libraries: .*libavutil-vidlm/, 'names the library it could not load');
});
