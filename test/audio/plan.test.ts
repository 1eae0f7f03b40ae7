/** The order of frames and audio chunks, checked against orders written out by hand. */
import t from 'tap';
import { audioClipTokens, checkAudioOption, mediaOrder, mediaSteps } from '../../lib/audio/index.js';
import { orderedMedia, stepContent } from '../../lib/pipeline/assemble.js';

const show = (steps: ReturnType<typeof mediaOrder>) => steps.map((s) => (s.kind === 'frame' ? `F${s.t}` : `A${s.start}-${s.end}`)).join(' ');

t.test('interleave: each 2 s window\'s frames, then its audio (Qwen2.5-Omni)', async (tt) => {
  tt.equal(show(mediaOrder([0, 1, 2, 3, 4.5], [0, 5], 'interleave')), 'F0 F1 A0-2 F2 F3 A2-4 F4.5 A4-5');
  // 1 s windows, frames every 2 s: windows without a frame still carry their sound
  tt.equal(show(mediaOrder([0, 2], [0, 3], 'interleave', 1)), 'F0 A0-1 A1-2 F2 A2-3');
  // a segment: the audio span starts at 10 s
  tt.equal(show(mediaOrder([10, 11.9, 12], [10, 13], 'interleave')), 'F10 F11.9 A10-12 F12 A12-13');
  // frames after the end of the sound come last
  tt.equal(show(mediaOrder([0, 5], [0, 2], 'interleave')), 'F0 A0-2 F5');
  // every step is in time order: an audio chunk never precedes a frame taken before its start
  const steps = mediaOrder([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5], [0, 4], 'interleave', 1.5);
  let chunkStart = -Infinity;
  for (const s of steps) {
    if (s.kind === 'audio') chunkStart = s.start;
    else tt.ok(s.t >= chunkStart, `frame ${s.t} after the chunk starting ${chunkStart}`);
  }
});

t.test('prefix: all the audio, then the frames; no audio: frames only', async (tt) => {
  tt.equal(show(mediaOrder([0, 1], [0, 4], 'prefix')), 'A0-4 F0 F1');
  tt.equal(show(mediaOrder([0, 1], [0, 0], 'interleave')), 'F0 F1');
  tt.equal(show(mediaOrder([], [0, 3], 'interleave', 2)), 'A0-2 A2-3');
});

t.test('media list and user content follow the steps', async (tt) => {
  const steps = mediaOrder([0, 1, 2], [0, 3], 'interleave');
  const a = [{ audio: new Float32Array(1) }, { audio: new Float32Array(2) }];
  tt.same(orderedMedia(steps, ['f0', 'f1', 'f2'], a), ['f0', 'f1', a[0], 'f2', a[1]]);
  tt.equal(stepContent('<M>', steps, [0, 1, 2], [{ start: 1.2, end: 1.5, text: 'hi' }]), '<M><M>\n[1.2s] "hi"\n<M><M><M>');
});

t.test('the option: values, and a model without an audio encoder', async (tt) => {
  tt.equal(checkAudioOption(undefined, undefined, { audio: true }), null);
  tt.equal(checkAudioOption(false, undefined, { audio: false }), null);
  // an encoder whose cost is unknown: 2 s windows, nothing trimmed
  tt.same(checkAudioOption(true, undefined, { audio: true }), { mode: 'interleave', window: 2, projector: null, rate: 16000, length: 'real' });
  tt.same(checkAudioOption('prefix', 0.5, { audio: true }, 'padded'), { mode: 'prefix', window: 0.5, projector: null, rate: 16000, length: 'padded' });
  tt.throws(() => checkAudioOption(true, undefined, { audio: false }), { code: 'ERR_UNSUPPORTED', message: /'audio'/, details: { option: 'audio' } });
  tt.throws(() => checkAudioOption('loud', undefined, { audio: true }), { code: 'ERR_INVALID_ARG' });
  tt.throws(() => checkAudioOption(true, -1, { audio: true }), { code: 'ERR_INVALID_ARG', details: { option: 'audioWindow' } });
});

t.test('audio token estimate of the Whisper family (padded: the 30 s chunks of libmtmd; real: the HF rule)', async (tt) => {
  const padded = (projector: string | null) => ({ projector, rate: 16000, length: 'padded' as const });
  tt.equal(audioClipTokens(padded('qwen2a'), 0.5), 750);
  tt.equal(audioClipTokens(padded('qwen2.5o'), 29.9), 750);
  tt.equal(audioClipTokens(padded('qwen2a'), 30), 1500);
  tt.equal(audioClipTokens(padded('qwen2a'), 61), 2250);
  tt.equal(audioClipTokens(padded('ultravox'), 10), null);
  tt.equal(audioClipTokens(padded(null), 10), null);
  // real: 0.5 s = 50 mel frames → 25 → 12; 61 s = 6100 → 3050 → 1525
  const real = { projector: 'qwen2a', rate: 16000, length: 'real' as const };
  tt.same([audioClipTokens(real, 0.5), audioClipTokens(real, 61)], [12, 1525]);
});

t.test('mediaSteps: the order and its tokens in one call (the budget checks); 0 without sound, null when the count is unknown', async (tt) => {
  const a = checkAudioOption('interleave', 2, { audio: true, projectorType: 'qwen2a', audioSampleRate: 16000 }, 'padded')!;
  const { steps, tokens } = mediaSteps([0, 1, 2, 3], a, [0, 4]);
  tt.equal(show(steps), 'F0 F1 A0-2 F2 F3 A2-4');
  tt.equal(tokens, 2 * 750, 'padded: each 2 s chunk is one 30-s chunk of 750 embeddings');
  const none = mediaSteps([0, 1], null, [0, 0]);
  tt.same([show(none.steps), none.tokens], ['F0 F1', 0]);
  const unknown = checkAudioOption(true, 2, { audio: true, projectorType: 'ultravox', audioSampleRate: 16000 })!;
  tt.equal(mediaSteps([0], unknown, [0, 2]).tokens, null, 'an encoder whose count vidlm does not know');
});
