/** Where cues go among frames and how they read: checked against hand-placed expectations. */
import t from 'tap';
import { nativeLayout, placeCues, renderCue, subtitleTranscript } from '../../lib/pipeline/assemble.js';
import { temporalMerge } from '../../lib/model-info.js';
import { withTranscript } from '../../lib/subtitles/index.js';
import type { SubtitleCue } from '../../lib/video/types.js';
import { subtitleOption } from '../../lib/subtitles/cli.js';
import { withSoundValues } from '../../lib/cli-flags.js';
import { loadSubtitles } from '../../lib/video/subtitles.js';
import { openVideo } from '../../lib/video/index.js';
import { media } from '../fixtures/media.js';

t.test('renderCue', async (tt) => {
  tt.equal(renderCue({ start: 12.46, end: 13, text: 'line' }), '[12.5s] "line"');
  tt.equal(renderCue({ start: 3, end: null, text: 'two\nlines "quoted"' }), '[3.0s] "two / lines \u201dquoted\u201d"');
});

t.test('placeCues: after the last frame at or before the start', async (tt) => {
  const cue = (start: number, end: number | null = start + 1) => ({ start, end, text: String(start) });
  const frames = [0, 1, 2, 3];
  const r = placeCues([cue(2.5), cue(-0.5, -0.1), cue(0), cue(0.99), cue(3.5), cue(10)], frames, -1, 5);
  tt.same(r.before.map((c) => c.start), [-0.5]);
  tt.same(r.after.map((a) => a.map((c) => c.start)), [[0, 0.99], [], [2.5], [3.5]]);
  // a sampled segment leaves cues outside it out; one overlapping the start stays
  const s = placeCues([cue(0.2, 1.6), cue(1.2, 1.4), cue(2.6)], [1.5, 2.5], 1.5, 2.5);
  tt.same(s.before.map((c) => c.start), [0.2]);
  tt.same(s.after.map((a) => a.map((c) => c.start)), [[], []]);
});

t.test('loadSubtitles: a broken or missing track is a warning, never a failure', async (tt) => {
  const broken = await openVideo(await media.latin1Mkv());
  tt.teardown(() => broken.close());
  const r = await loadSubtitles(broken, true);
  tt.equal(r.track?.cues.length, 2);
  tt.match(r.warnings[0], /1 cue\(s\) of .* could not be decoded/);
  const none = await openVideo(await media.h264());
  tt.teardown(() => none.close());
  const n = await loadSubtitles(none, 'en');
  tt.equal(n.track, null);
  tt.match(n.warnings[0], /no subtitle track/);
  const ext = await loadSubtitles(none, await media.srt());
  tt.equal(ext.track?.cues.length, 3);
  tt.same(ext.warnings, []);
  await tt.rejects(loadSubtitles(none, { bad: 1 } as never), { code: 'ERR_INVALID_ARG' });
  tt.same(await loadSubtitles(none, false), { track: null, warnings: [] });
});

/** The native path's user content for frames at `times` without sound: what assemble lays out (lib/audio's nativeLayout). */
const interleaveMarkers = (marker: string, times: number[], cues: SubtitleCue[], segment?: [number, number], group?: number): string | undefined =>
  nativeLayout(times.map((t) => ({ t })), undefined, cues, segment, group).content?.(marker);

t.test('the native layout / subtitleTranscript: each cue after its frame, by hand', async (tt) => {
  const cues = [
    { start: 0.5, end: 1.2, text: 'one' },
    { start: 1.5, end: 2.2, text: 'two\nlines' },
    { start: 3.25, end: 3.9, text: 'three' },
  ];
  // frames at 0, 1, 2, 3 s: cue 0.5 after frame 0, 1.5 after frame 1, 3.25 after frame 3
  tt.equal(interleaveMarkers('<M>', [0, 1, 2, 3], cues), '<M>\n[0.5s] "one"\n<M>\n[1.5s] "two / lines"\n<M><M>\n[3.3s] "three"\n');
  // the first frame is at 1 s: the 0.5 s cue comes before every marker
  tt.equal(interleaveMarkers('<M>', [1, 2], cues, [1, 2.5]), '[0.5s] "one"\n<M>\n[1.5s] "two / lines"\n<M>');
  // Qwen2-VL merges frame pairs: cues wait for the end of their pair (frames 1 and 3)
  tt.equal(interleaveMarkers('<M>', [0, 1, 2, 3], cues, undefined, 2), '<M><M>\n[0.5s] "one"\n[1.5s] "two / lines"\n<M><M>\n[3.3s] "three"\n');
  tt.equal(interleaveMarkers('<M>', [0, 1, 2], [cues[2]!], undefined, 2), '<M><M><M>\n[3.3s] "three"\n', 'an odd last frame takes its own');
  // no cue and no sound: the frames as they are, no content (the markers alone)
  const frames = [{ t: 0 }, { t: 1 }];
  tt.same(nativeLayout(frames, undefined, []), { frames });
  tt.equal(temporalMerge('qwen2vl_merger'), 2);
  tt.equal(temporalMerge('qwen2.5vl_merger'), 2);
  tt.equal(temporalMerge('mlp'), 1);
  tt.equal(temporalMerge(null), 1);
  tt.equal(subtitleTranscript([0, 2], cues), 'Subtitles:\n[0.5s] "one"\n[1.5s] "two / lines"\n[3.3s] "three"\n');
  tt.equal(subtitleTranscript([0, 1], cues, [0, 1]), 'Subtitles:\n[0.5s] "one"\n');
  tt.equal(subtitleTranscript([0], []), '');
  const turn = withTranscript((a: number) => (q: string) => `${a}|${q}`, 'S\n');
  tt.equal(turn(7)('Q'), '7|S\nQ');
});

t.test('--subtitles on the command line', async (tt) => {
  tt.same(withSoundValues(['v.mp4', '--subtitles', 'q?']), ['v.mp4', '--subtitles=true', 'q?']);
  tt.same(withSoundValues(['--subtitles', 'en', 'v.mp4']), ['--subtitles=en', 'v.mp4']);
  tt.same(withSoundValues(['--subtitles', 'x/movie.srt', 'v.mp4']), ['--subtitles=x/movie.srt', 'v.mp4']);
  tt.same(withSoundValues(['--subtitles', '--json']), ['--subtitles=true', '--json']);
  tt.equal(subtitleOption('true'), true);
  tt.equal(subtitleOption('fre'), 'fre');
});
