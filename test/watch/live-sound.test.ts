// A live stream's sound, read along with its pictures: an ffmpeg-fed mpegts stream on loopback
// UDP whose picture turns red and whose sound plays a 1 kHz tone over the same seconds [3, 6).
// live() gives the sound on the frames' timeline; watch() windows carry it, the tone in the
// windows whose frames are red (within one window); a stream whose sound stops while its pictures
// go on keeps giving windows and says so (audioSeconds, audioStalled).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import type { Model, WatchItem, WatchWindow } from '../../lib/index.js';
import { live } from '../../lib/video/live.js';
import { watchWith } from '../../lib/watch/watch.js';
import type { WindowQuestion } from '../../lib/watch/respond.js';
import { MEDIA_DIR } from '../fixtures/media.js';
import { freeUdpPort } from '../fixtures/ports.js';
import { tinyModel } from '../inference/helpers.js';
import { colourSource, isRed } from './helpers.js';

const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / Math.max(1, a.length));
const TONE = 'aevalsrc=0.5*sin(2*PI*1000*t)*gte(t\\,3)*lt(t\\,6):s=16000:d=20';

/** ffmpeg sending 20 s of the red/blue picture and `audio` (a lavfi source, `seconds` long) to a loopback UDP port as mpegts (`extra`: output options). */
async function sender(t: { teardown(fn: () => void): void }, audio: string, seconds = 20, extra: string[] = []): Promise<string> {
  const url = `udp://127.0.0.1:${await freeUdpPort()}`;
  const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', colourSource(20, [[3, 6]], 10),
    '-f', 'lavfi', '-t', String(seconds), '-i', audio, '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '5', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k', ...extra, '-f', 'mpegts', `${url}?pkt_size=1316`], { stdio: 'ignore' });
  p.on('error', () => undefined);
  t.teardown(() => { p.kill('SIGKILL'); });
  return url;
}

/** The tiny LLaVA pair told it hears (answers come from a hook: the test checks what each window is given). */
async function seeingAndHearing(): Promise<Model> {
  const x = await tinyModel({ cache: false, threads: 1 });
  (x as { info: Model['info'] }).info = { ...x.info, audio: true, audioSampleRate: 16000 };
  return x;
}

t.test('live(): the sound on the frames\' timeline, the tone where the picture is red', { timeout: 60_000 }, async (t) => {
  const url = await sender(t, TONE);
  const s = live(url, { fps: 4, window: 30, size: [32, 32], audio: true, timeout: 3 });
  t.teardown(() => s.close());
  const frames: { t: number; red: boolean }[] = [];
  for await (const f of s) {
    frames.push({ t: f.t, red: isRed(f) });
    if (frames.length > 1 && frames.filter((x) => x.red).length > 4 && !frames.at(-1)!.red) break;
  }
  t.ok(s.stats.audio!.track && s.stats.audio!.seconds > 3, `sound read: ${s.stats.audio!.seconds} s`);
  const redFrom = frames.find((x) => x.red)!.t, redTo = frames.findLast((x) => x.red)!.t;
  // the tone's span on the live timeline, from 50 ms steps of the sound
  const from = frames[0]!.t, to = frames.at(-1)!.t;
  const clip = s.audio(from, to)!;
  t.ok(clip.seconds > 0.8 * (to - from), `covered ${clip.seconds} of ${to - from} s`);
  const step = 800; // 50 ms at 16 kHz
  const loud: number[] = [];
  for (let i = 0; i + step <= clip.samples.length; i += step) if (rms(clip.samples.subarray(i, i + step)) > 0.2) loud.push(from + i / 16000);
  t.ok(loud.length > 0, 'the tone was heard');
  // the same 3 s in picture and sound: the tone starts and ends with the red frames (within a frame interval and an AAC frame)
  t.ok(Math.abs(loud[0]! - redFrom) < 0.35, `tone from ${loud[0]}, red from ${redFrom}`);
  t.ok(Math.abs(loud.at(-1)! + 0.05 - (redTo + 0.25)) < 0.4, `tone to ${loud.at(-1)}, red to ${redTo}`);
  const silent = live(url, { fps: 1 });
  t.equal(silent.audio(0, 1), null, 'no sound without audio: true');
  await silent.close();
  t.throws(() => live(url, { audio: true, audioSampleRate: 10 }), { code: 'ERR_INVALID_ARG' });
});

const windowsOf = (items: WatchItem[]) => items.filter((x): x is WatchWindow => x.type === 'window');

t.test('watch on a live stream with sound: the window with the tone is the window with the red frames (within one window)', { timeout: 90_000 }, async (t) => {
  const model = await seeingAndHearing();
  t.teardown(() => model.dispose());
  const url = await sender(t, TONE);
  const seen: WindowQuestion[] = [];
  const items: WatchItem[] = [];
  const w = watchWith(url, { model, every: 1, window: 1, fps: 4, audio: 'interleave', audioWindow: 0.5, timeout: 3, strategy: 'concat' }, { answer: (q) => { seen.push(q); return 'ok'; } });
  for await (const x of w) {
    items.push(x);
    const wins = windowsOf(items);
    if (wins.length >= 3 && wins.some((v) => v.frames > 0 && seen[v.index]?.frames.some(isRed)) && !seen.at(-1)!.frames.some(isRed)) break;
    if (wins.length > 14) break;
  }
  t.notOk(items.some((x) => x.type === 'warning'), 'no warning: the sound is read');
  const wins = windowsOf(items);
  t.ok(wins.every((v) => v.audioChunks === 2 || v.audioSeconds === 0), `two 0.5 s clips a window: ${wins.map((v) => v.audioChunks)}`);
  t.ok(wins.slice(1).every((v) => v.audioSeconds! > 0.8), `the sound covers the windows: ${wins.map((v) => v.audioSeconds?.toFixed(2))}`);
  const redWin = wins.filter((v) => seen[v.index]!.frames.some(isRed)).map((v) => v.index);
  const toneWin = wins.filter((v) => seen[v.index]!.media!.some((m) => m.kind === 'audio' && rms(m.samples) > 0.2)).map((v) => v.index);
  t.ok(redWin.length >= 2 && toneWin.length >= 2, `red windows ${redWin}, tone windows ${toneWin}`);
  t.ok(Math.abs(redWin[0]! - toneWin[0]!) <= 1 && Math.abs(redWin.at(-1)! - toneWin.at(-1)!) <= 1, `red ${redWin} vs tone ${toneWin}`);
  // each clip after the frames taken while it played: in the first tone window, the loud clip follows a red frame
  const q = seen[toneWin[0]!]!;
  const order = q.media!.map((m) => (m.kind === 'frame' ? 'f' : rms(m.samples) > 0.2 ? 'T' : 'a'));
  t.ok(order.filter((x) => x !== 'f').length === 2 && order.includes('T'), order.join(''));
});

t.test('a stream whose sound stops while its pictures go on: the windows go on and say so', { timeout: 90_000 }, async (t) => {
  const model = await seeingAndHearing();
  t.teardown(() => model.dispose());
  // 2 s of sound, 20 s of pictures (the muxer told not to hold the pictures back waiting for sound)
  const url = await sender(t, 'sine=frequency=1000:sample_rate=16000', 2, ['-max_interleave_delta', '300000']);
  const items: WatchItem[] = [];
  const w = watchWith(url, { model, every: 1, window: 1, fps: 2, audio: true, timeout: 1, strategy: 'concat' }, { answer: () => 'ok' });
  for await (const x of w) {
    items.push(x);
    if (windowsOf(items).length >= 7) break;
  }
  const wins = windowsOf(items);
  t.equal(wins.length, 7, 'the windows go on');
  t.ok(wins[0]!.audioSeconds! > 0, `sound at first: ${wins.map((v) => v.audioSeconds?.toFixed(2))}`);
  const last = wins.at(-1)!;
  t.equal(last.audioSeconds, 0, 'no sound in the last window');
  t.equal(last.audioChunks, 0, 'and no clip of silence given to the model');
  t.equal(last.audioStalled, true, 'the stall is reported');
  t.ok(wins.every((v) => v.frames >= 1), 'the pictures keep coming');
});

/**
 * ffmpeg sending, as mpegts on loopback UDP in real time, 20 s of a black picture that stops for
 * [4, 8) while a 1 kHz sine goes on. The file is made first (an ffmpeg reading two live inputs
 * feeds the stalled picture's input and starves the sound), strictly in time order, then sent as
 * it is (-c copy; the sender's muxer told not to hold the sound back waiting for a picture).
 */
async function pictureGapSender(t: { teardown(fn: () => void): void }): Promise<string> {
  const file = join(MEDIA_DIR, 'live-picture-gap-4-8-dts.ts');
  if (!existsSync(file)) {
    mkdirSync(MEDIA_DIR, { recursive: true });
    const tmp = `${file}.tmp${process.pid}.ts`;
    await promisify(execFile)('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
      '-f', 'lavfi', '-i', 'color=black:s=160x120:r=10:d=20,format=yuv420p,select=not(between(t\\,4\\,8))',
      '-f', 'lavfi', '-t', '20', '-i', 'sine=frequency=1000:sample_rate=16000',
      '-fps_mode', 'passthrough', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '5', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '64k', '-f', 'mpegts', tmp]);
    renameSync(tmp, file);
  }
  const url = `udp://127.0.0.1:${await freeUdpPort()}`;
  const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-i', file, '-c', 'copy',
    '-max_interleave_delta', '300000', '-f', 'mpegts', `${url}?pkt_size=1316`], { stdio: 'ignore' });
  p.on('error', () => undefined);
  t.teardown(() => { p.kill('SIGKILL'); });
  return url;
}

t.test('live(): pictures that stall while the sound flows: the sound is kept and the stall says it flowed', { timeout: 60_000 }, async (t) => {
  const url = await pictureGapSender(t);
  const s = live(url, { fps: 4, window: 30, size: [32, 32], audio: true, timeout: 1.5 });
  t.teardown(() => s.close());
  const frames: { t: number; connection: number }[] = [];
  for await (const f of s) {
    frames.push({ t: f.t, connection: f.connection });
    if (f.connection > 0) break; // the pictures came back on a new connection
  }
  const before = frames.filter((x) => x.connection === 0).at(-1)!, after = frames.at(-1)!;
  t.ok(after.t - before.t > 2, `a picture gap: ${before.t.toFixed(2)} -> ${after.t.toFixed(2)}`);
  t.ok(s.stats.reconnects >= 1, 'the stall reconnected, and the pictures came back');
  t.ok(s.stats.audioDuringStall! > 0.8, `the sound that came during the stall is counted: ${s.stats.audioDuringStall}`);
  t.match(s.stats.lastError, /no frame in 1\.5 s.*the sound went on/, s.stats.lastError ?? 'no lastError');
  // the sound of the stall's first second is on the timeline (not dropped with the timed-out read)
  const clip = s.audio(before.t + 0.2, before.t + 1)!; // the sine's rms is 0.088 (amplitude 1/8)
  t.ok(clip.seconds > 0.6 && rms(clip.samples) > 0.05, `sound after the last picture: ${clip.seconds} s, rms ${rms(clip.samples).toFixed(2)}`);
});

t.test('watch: the reconnect after a picture stall says the sound went on, and the windows go on', { timeout: 90_000 }, async (t) => {
  const model = await seeingAndHearing();
  t.teardown(() => model.dispose());
  const url = await pictureGapSender(t);
  const items: WatchItem[] = [];
  const w = watchWith(url, { model, every: 1, window: 1, fps: 2, audio: true, timeout: 1.5, strategy: 'concat' }, { answer: () => 'ok' });
  for await (const x of w) {
    items.push(x);
    const r = items.findIndex((i) => i.type === 'reconnect');
    if (r >= 0 && windowsOf(items.slice(r)).length >= 2) break;
  }
  const r = items.find((i) => i.type === 'reconnect');
  t.ok(r && r.type === 'reconnect' && r.audioSecondsDuringStall! > 0.8, `reconnect: ${JSON.stringify(r)}`);
  t.ok(windowsOf(items).length >= 4, 'windows before and after the stall');
});
