// lib/pipeline with subtitles and audio (issue 14): the plan decides what is read, assemble places
// cues and audio clips; each stage built by hand, expected prompts written out by hand.
import t from 'tap';
import type { FrameGrid } from '../../lib/assembly/types.js';
import type { AudioMedia } from '../../lib/audio/media.js';
import { mediaOrder } from '../../lib/audio/index.js';
import { assemble, frameVariant, planVideo, render, QUESTION, type ChatTemplate, type VideoPlan } from '../../lib/pipeline/index.js';
import type { SubtitleCue, VideoProbe } from '../../lib/video/types.js';

const visionInfo = { vision: true, audio: false, imageSize: 112, imageGrid: { nx: 8, ny: 8 }, tokensPerImage: 64, mrope: false, architecture: 'llama', projectorType: 'mlp' } as never;
const omniInfo = { vision: true, audio: true, audioSampleRate: 16000, imageSize: 112, imageGrid: { nx: 8, ny: 8 }, tokensPerImage: 64, mrope: true, architecture: 'qwen2vl', projectorType: 'qwen2.5o' } as never;
const audioInfo = { vision: false, audio: true, audioSampleRate: 16000, imageSize: null, imageGrid: null, tokensPerImage: null, mrope: false, architecture: 'qwen2', projectorType: 'qwen2a' } as never;
const probe = (duration: number, o: { video?: boolean; audio?: boolean } = {}): VideoProbe => ({
  source: 'hand', format: 'mp4', duration, startTime: 0, bitRate: null, isImage: false, isLive: false,
  audio: o.audio === false ? null : ({ startTime: 0, duration } as never),
  video: o.video === false ? null : ({ avgFps: 30 } as never), subtitles: [],
});
const query = { strategy: 'auto' as const, timeTokens: 'none' as const, preamble: false, contextSize: 4096, fit: 'pad' as const };
const template: ChatTemplate = {
  mediaMarker: '<m>',
  applyTemplate: (msgs) => msgs.map((m) => `[${m.role}]${m.content}`).join('') + '[assistant]',
  formatTurn: (_h, m) => `[${m.role}]${m.content}[assistant]`,
  imageWrap: { before: new Int32Array(0), after: new Int32Array(0) },
};
const frame = (t: number) => ({ t, width: 1, height: 1, rgb: new Uint8Array(3) });
const cues: SubtitleCue[] = [{ start: 0.5, end: 1, text: 'one' }, { start: 2.5, end: 3, text: 'two' }];

t.test('plan: audio and subtitles asked for, checked before any decoding', async (t) => {
  t.throws(() => planVideo(probe(10), visionInfo, { ...query, audio: true }), { code: 'ERR_UNSUPPORTED', details: { option: 'audio' } },
    'no audio encoder');
  // a pooled strategy takes audio too (test/audio/pooled-plan.test.ts): libmtmd encodes the clips among the pooled frames
  t.equal(planVideo(probe(10), { ...(omniInfo as object), mrope: false } as never, { ...query, strategy: 'concat', audio: 'prefix' }).path, 'pooled');
  t.throws(() => planVideo(probe(10), visionInfo, { ...query, subtitles: -1 as never }), { code: 'ERR_INVALID_ARG' });
  const p = planVideo(probe(10), omniInfo, { ...query, audio: 'interleave', audioWindow: 5, subtitles: 'en', segment: [1, 9] });
  t.equal(p.path, 'native');
  t.match(p.audio, { mode: 'interleave', window: 5, length: 'real' });
  t.equal(p.subtitles, 'en');
  t.same(p.segment, [1, 9]);
  t.equal(p.temporalMerge, 2, 'Qwen2.5-Omni merges frame pairs');
  t.notOk(p.audioOnly);
  // nothing asked: the plan of main, no audio, no subtitles
  const plain = planVideo(probe(10), visionInfo, query);
  t.equal(plain.audio, undefined);
  t.equal(plain.subtitles, undefined);
  // padded: 70 s in 2 s windows: 35 chunks of 750 tokens (libmtmd's 30 s Whisper padding) > 3840
  t.throws(() => planVideo(probe(70), omniInfo, { ...query, audio: true, audioWindow: 2, audioLength: 'padded' }), { code: 'ERR_CONTEXT_FULL', details: { audioChunks: 35, audioTokens: 35 * 750 } });
});

t.test('plan: the sound alone (an audio file, or a model without vision)', async (t) => {
  const file = planVideo(probe(10, { video: false }), omniInfo, query);
  t.equal(file.audioOnly, true);
  t.equal(file.strategy, 'native');
  t.equal(file.count, 0, 'no frames');
  t.match(file.audio, { mode: 'prefix', window: 2, length: 'real' }, 'the sound in one clip by default');
  t.equal(file.warning, undefined);
  const blind = planVideo(probe(10), audioInfo, query);
  t.equal(blind.audioOnly, true);
  t.match(blind.warning, /no vision encoder/);
});

t.test('assemble, mtmd: audio clips among the frames, cues after the last frame of their group', async (t) => {
  const plan: VideoPlan = { strategy: 'native', path: 'native', sample: { uniform: 4 }, frame: {}, variant: frameVariant({}), count: 4, byCount: true, maxFrames: Infinity, reserve: 0, temporalMerge: 2 };
  const frames = [0, 1, 2, 3].map(frame);
  // cues only: frame 0's cue waits until after frame 1 (a pair), frame 2's until after frame 3
  const subs = assemble({ kind: 'native', frames }, plan, 4, query, () => true, { cues });
  if (subs.kind !== 'native') throw new Error('mtmd gives media');
  t.equal(subs.frames.length, 4);
  const r = render(template, subs);
  t.equal(r.history[0]?.content, `<m><m>\n[0.5s] "one"\n<m><m>\n[2.5s] "two"\n\n${QUESTION}`);
  if (r.prefix.kind !== 'native') throw new Error('media prefix');
  t.equal(r.prefix.text, `[user]<m><m>\n[0.5s] "one"\n<m><m>`, 'the prefix ends after the last marker');
  // audio, interleaved in 2 s windows: F0 F1 A0-2 F2 F3 A2-4
  const chunks = [{ audio: new Float32Array(2) }, { audio: new Float32Array(3) }];
  const audio: AudioMedia = { steps: mediaOrder([0, 1, 2, 3], [0, 4], 'interleave', 2), chunks, warnings: [] };
  const both = assemble({ kind: 'native', frames }, { ...plan, temporalMerge: 1 }, 4, query, () => true, { cues, audio });
  if (both.kind !== 'native') throw new Error('mtmd gives media');
  t.same(both.frames, [frames[0], frames[1], chunks[0], frames[2], frames[3], chunks[1]]);
  t.equal(render(template, both).history[0]?.content, `<m>\n[0.5s] "one"\n<m><m><m>\n[2.5s] "two"\n<m><m>\n${QUESTION}`);
  // neither: the markers alone, as on main
  const none = assemble({ kind: 'native', frames }, plan, 4, query, () => true);
  t.equal(render(template, none).history[0]?.content, `<m><m><m><m>\n${QUESTION}`);
});

t.test('assemble, pooled: the cues as a timed transcript before the question', async (t) => {
  const plan: VideoPlan = { strategy: 'concat', path: 'pooled', sample: { uniform: 2 }, frame: {}, variant: frameVariant({}), count: 2, byCount: true, maxFrames: 10, reserve: 0, segment: [0, 2] };
  const grids: FrameGrid[] = [0, 1].map((k) => ({ t: k, nx: 1, ny: 1, dim: 1, data: Float32Array.of(k) }));
  const a = assemble({ kind: 'grids', grids, ms: 0 }, plan, 4, query, () => true, { cues });
  if (a.kind !== 'items') throw new Error('pooled gives items');
  const text = a.userTurn('Q?').filter((it) => 'text' in it).map((it) => (it as { text: string }).text).join('');
  // the segment ends at 2 s: the cue at 2.5 s is left out
  t.match(text, /Subtitles:\n\[0\.5s\] "one"\nQ\?$/);
  t.notMatch(text, /two/);
  const plain = assemble({ kind: 'grids', grids, ms: 0 }, plan, 4, query, () => true);
  if (plain.kind !== 'items') throw new Error('pooled gives items');
  t.same(plain.userTurn('Q?').slice(-1), [{ text: '\nQ?' }], 'no cues: the question alone after the video, as on main');
});
