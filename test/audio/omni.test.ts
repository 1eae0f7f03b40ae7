// Pictures and sound on one model (issue 14): the tiny Qwen2.5-Omni mmproj (qwen2.5o: the
// Qwen2.5-VL tower and the Whisper encoder) with the tiny qwen2vl LLM. The order of frames and
// audio chunks is checked twice: in the plan, and in what libmtmd actually evaluated (the
// prefill's chunk report); tokens.visual is exactly the frames' and the audio's embeddings.
import t from 'tap';
import { ask, loadModel, type Model } from '../../lib/index.js';
import { mediaOrder } from '../../lib/audio/index.js';
import { prepare, type PipelineQuery } from '../../lib/pipeline/index.js';
import type { MediaChunkReport } from '../../lib/native.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const m = await tinyModels();
const model: Model = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen25OmniMmproj, threads: 2 });
t.teardown(() => model.dispose());
// libmtmd's padded form (750 per clip, CLIP below); test/audio/real-length.test.ts counts the real length on this pair
const gen = { maxTokens: 4, temperature: 0, contextSize: 4096, audioLength: 'padded' as const };
// toneburst.mp4: 4 s at 30 fps (120 frames), a 1 kHz burst at 2.0-2.5 s; 4 frames by linspace
// are frames 0, 39, 79, 119: t = 0, 1.3, 2.633, 3.967
const TIMES = [0, 39 / 30, 79 / 30, 119 / 30];
const FRAME = 16; // a 112×112 frame: 8×8 patches merged 2×2 (a merged pair shares one grid)
const CLIP = 750; // any clip up to 30 s: one Whisper chunk (3000 mel frames / 2 / 2)

async function prepared(video: string, o: Partial<PipelineQuery>) {
  const p = await prepare(video, {
    model, strategy: 'auto', timeTokens: 'none', preamble: false, contextSize: 4096, fit: 'stretch', sequences: 1, audioLength: 'padded',
    signal: new AbortController().signal, ...o,
  });
  await p.chat.dispose();
  return p;
}
const mediaChunks = (chunks: readonly MediaChunkReport[]) => chunks.filter((c) => c.type !== 'text').map((c) => `${c.type}:${c.tokens}`);

t.test('one mmproj, both encoders: libmtmd loads the vision and the audio side', async (tt) => {
  tt.equal(model.info.vision, true);
  tt.equal(model.info.audio, true);
  tt.equal(model.info.projectorType, 'qwen2.5o');
  tt.equal(model.info.audioSampleRate, 16000);
  tt.equal(model.info.mrope, true, 'the qwen2vl LLM: M-RoPE');
  // M-RoPE models are probed at the encoder's own side (frames are sampled at it): patches merged 2×2
  const side = model.info.imageSize! / model.info.patchSize!;
  tt.equal(model.info.tokensPerImage, (side / 2) ** 2, `a ${model.info.imageSize}-px picture: ${side}×${side} patches merged 2×2`);
  tt.ok(model.info.imageSize! < 448, 'the fixture is smaller than the 448-px probe used before');
});

t.test('interleave, 2 s windows: each window\'s frames, then its sound, in the evaluated sequence', async (tt) => {
  const video = await media.toneBurst();
  // the plan: window [0, 2) holds frames 0 and 1, window [2, 4) frames 2 and 3
  tt.same(mediaOrder(TIMES, [0, 4], 'interleave', 2).map((s) => (s.kind === 'frame' ? `f${s.index}` : `a${s.start}-${s.end}`)),
    ['f0', 'f1', 'a0-2', 'f2', 'f3', 'a2-4']);
  const p = await prepared(video, { frames: 4, audio: 'interleave', audioWindow: 2 });
  tt.same(p.frames.map((f) => f.t), TIMES);
  // what libmtmd evaluated: the two frames of a window side by side merge into one image (Qwen's temporal pair)
  tt.same(mediaChunks(p.chunks!), [`image:${FRAME}`, `audio:${CLIP}`, `image:${FRAME}`, `audio:${CLIP}`]);
  tt.equal(p.visual, 2 * FRAME + 2 * CLIP, 'tokens.visual = frame tokens + audio tokens');
  // positions: one after the other; an image takes max(t, h, w) = 4 M-RoPE positions for its 16 embeddings
  const img = p.chunks!.find((c) => c.type === 'image')!;
  tt.equal(img.positions, 4);
  p.chunks!.forEach((c, i) => { if (i > 0) tt.equal(c.pos, p.chunks![i - 1]!.pos + p.chunks![i - 1]!.positions, `chunk ${i} starts where ${i - 1} ends`); });
});

t.test('interleave, 1 s windows: a sound chunk between every frame, so no pair merges', async (tt) => {
  const video = await media.toneBurst();
  tt.same(mediaOrder(TIMES, [0, 4], 'interleave', 1).map((s) => s.kind), ['frame', 'audio', 'frame', 'audio', 'frame', 'audio', 'frame', 'audio']);
  const p = await prepared(video, { frames: 4, audio: 'interleave', audioWindow: 1 });
  tt.same(mediaChunks(p.chunks!), Array.from({ length: 4 }, () => [`image:${FRAME}`, `audio:${CLIP}`]).flat());
  tt.equal(p.visual, 4 * FRAME + 4 * CLIP);
});

t.test('prefix: the whole sound, then the frames', async (tt) => {
  const p = await prepared(await media.toneBurst(), { frames: 5, audio: 'prefix' });
  // 5 frames: two pairs and one alone, each one 16-token image
  tt.same(mediaChunks(p.chunks!), [`audio:${CLIP}`, `image:${FRAME}`, `image:${FRAME}`, `image:${FRAME}`]);
  tt.equal(p.visual, CLIP + 3 * FRAME);
});

t.test('ask: the same counts, deterministic at temperature 0, two concurrent asks alike', async (tt) => {
  const video = await media.toneBurst();
  const r = await ask(video, 'What do you see and hear?', { model, frames: 4, audio: 'interleave', ...gen });
  tt.equal(r.strategy, 'native');
  // padded, no audioWindow: the default window is the longest of one Whisper chunk (29.9 s), so 4 s are one clip
  tt.equal(r.tokens.visual, 2 * FRAME + CLIP);
  tt.equal(r.tokens.generated, 4);
  const again = await ask(video, 'What do you see and hear?', { model, frames: 4, audio: 'interleave', ...gen });
  tt.equal(again.text, r.text, 'deterministic');
  const [a, b] = await Promise.all([
    ask(video, 'What do you see and hear?', { model, frames: 4, audio: 'interleave', ...gen }),
    ask(video, 'What do you see and hear?', { model, frames: 4, audio: 'interleave', ...gen }),
  ]);
  tt.equal(a.text, r.text);
  tt.equal(b.text, r.text);
  // the sound changes the answer's input: the prefix layout is another sequence
  const prefix = await ask(video, 'What do you see and hear?', { model, frames: 4, audio: 'prefix', ...gen });
  tt.equal(prefix.tokens.visual, CLIP + 2 * FRAME);
});
