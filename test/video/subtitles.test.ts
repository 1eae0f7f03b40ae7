/** Subtitle tracks read by FFmpeg's decoders: cues at the times the fixtures wrote (SUBS), probe lists the tracks. */
import t, { type Test } from 'tap';
import { openVideo, probeVideo } from '../../lib/video/index.js';
import { readSubtitleFile } from '../../lib/subtitles/index.js';
import { media, SUBS } from '../fixtures/media.js';

const near = (a: number | null, b: number): boolean => a !== null && Math.abs(a - b) < 0.002;

function checkCues(tt: Test, cues: { start: number; end: number | null; text: string }[], label: string): void {
  tt.equal(cues.length, SUBS.length, `${label}: ${SUBS.length} cues`);
  SUBS.forEach(([a, b, text], i) => {
    const c = cues[i]!;
    tt.ok(near(c.start, a), `${label} cue ${i} starts at ${a} (got ${c.start})`);
    tt.ok(near(c.end, b), `${label} cue ${i} ends at ${b} (got ${c.end})`);
    tt.equal(c.text, text, `${label} cue ${i} text, markup removed`);
  });
}

t.test('mov_text in mp4: probe lists it, cues at their times', async (tt) => {
  const p = await probeVideo(await media.movText());
  tt.same(p.subtitles.map((s) => [s.codec, s.language]), [['mov_text', 'eng']]);
  const v = await openVideo(await media.movText());
  tt.teardown(() => v.close());
  const track = await v.subtitles();
  tt.equal(track.codec, 'mov_text');
  checkCues(tt, track.cues, 'mov_text');
  // frames are still right after the subtitle read moved the demuxer
  const f = await v.sample({ times: [1] }, { size: 32 });
  tt.equal(f[0]!.index, 30);
});

t.test('SubRip in mkv: two languages, picked by tag', async (tt) => {
  const v = await openVideo(await media.subripMkv());
  tt.teardown(() => v.close());
  tt.same(v.probe.subtitles.map((s) => [s.codec, s.language, s.isDefault]), [['subrip', 'eng', true], ['subrip', 'fre', false]]);
  checkCues(tt, (await v.subtitles()).cues, 'default (eng)');
  checkCues(tt, (await v.subtitles({ track: 'en' })).cues, 'en');
  const fr = await v.subtitles({ track: 'fr' });
  tt.same(fr.cues.map((c) => c.text), ['Ligne 1', 'Ligne 2', 'Ligne 3']);
  tt.equal(fr.streamIndex, v.probe.subtitles[1]!.streamIndex);
  await tt.rejects(v.subtitles({ track: 'de' }), { code: 'ERR_VIDEO_NO_STREAM' });
  await tt.rejects(v.subtitles({ track: 0 }), { code: 'ERR_INVALID_ARG' }, 'stream 0 is the video');
  // concurrent reads on one source (serialised) agree
  const [a, b] = await Promise.all([v.subtitles({ track: 'en' }), v.subtitles({ track: 'fr' })]);
  tt.equal(a.cues[0]!.text, SUBS[0]![2]);
  tt.equal(b.cues[0]!.text, 'Ligne 1');
});

t.test('external .srt and .vtt files', async (tt) => {
  const srt = await readSubtitleFile(await media.srt());
  tt.equal(srt.codec, 'subrip');
  tt.equal(srt.streamIndex, null);
  checkCues(tt, srt.cues, 'srt');
  const vtt = await readSubtitleFile(await media.vtt());
  tt.equal(vtt.codec, 'webvtt');
  checkCues(tt, vtt.cues, 'vtt');
  await tt.rejects(readSubtitleFile(await media.toneBurstWav()), { code: 'ERR_VIDEO_OPEN' }, 'a wav is not a subtitle file (only the srt, webvtt and ass demuxers may open one)');
  await tt.rejects(readSubtitleFile('/nonexistent.srt'), { code: 'ERR_VIDEO_OPEN' });
});

t.test('a Latin-1 cue in a SubRip track: rejected by the decoder, the others kept', async (tt) => {
  const v = await openVideo(await media.latin1Mkv());
  tt.teardown(() => v.close());
  const track = await v.subtitles({ track: 'fre' });
  tt.equal(track.errors, 1);
  tt.same(track.cues.map((c) => c.text), [SUBS[0]![2], SUBS[2]![2]]);
  tt.ok(near(track.cues[1]!.start, SUBS[2]![0]));
});

t.test('abort and close while reading', async (tt) => {
  const v = await openVideo(await media.subripMkv());
  const ac = new AbortController();
  ac.abort();
  await tt.rejects(v.subtitles({ signal: ac.signal }), { code: 'ERR_ABORTED' });
  const p = v.subtitles().then(() => 'ok', (e: { code?: string }) => e.code);
  await v.close();
  const r = await p;
  tt.ok(r === 'ok' || r === 'ERR_DISPOSED' || r === 'ERR_ABORTED', `read raced with close: ${r}`);
  await tt.rejects(v.subtitles(), { code: 'ERR_DISPOSED' });
});

t.test('no subtitle track', async (tt) => {
  const v = await openVideo(await media.h264());
  tt.teardown(() => v.close());
  tt.same(v.probe.subtitles, []);
  await tt.rejects(v.subtitles(), { code: 'ERR_VIDEO_NO_STREAM' });
});

t.test('vidlm info lists the subtitle tracks', async (tt) => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const cli = new URL('../../dist/cli.js', import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(process.execPath, [cli, 'info', await media.subripMkv()]);
  tt.match(stdout, /subtitles {3}#2 subrip, eng \(default\)\n {2}subtitles {3}#3 subrip, fre\n/);
  const json = JSON.parse((await promisify(execFile)(process.execPath, [cli, 'info', await media.movText(), '--json'])).stdout);
  tt.same(json.subtitles, [{ streamIndex: 2, codec: 'mov_text', language: 'eng', title: null, isDefault: true }]);
});
