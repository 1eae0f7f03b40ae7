// The media memo under ask(), batch and readVideo (issue #32): a repeat of a video with the same
// options decodes nothing when the encoder's cache holds its embeddings, and only the frames it
// lacks when it holds some (those decoded again give the very embeddings the first read made).
// Decoding is counted at the native decoder (decoderTotals: the addon's walk stats, summed).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { ask, loadModel } from '../../lib/index.js';
import { runJob } from '../../lib/batch/run-job.js';
import { readVideo, type ReadQuery } from '../../lib/pipeline/index.js';
import { mediaIdentity, memoKey, MediaMemo } from '../../lib/pipeline/read.js';
import { decoderTotals } from '../../lib/video/video.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const m = await tinyModels();
const clip = await media.h264();
const GEN = { maxTokens: 2, temperature: 0, strategy: 'concat' as const, frames: 4, contextSize: 2048 };

async function decodedBy<T>(f: () => Promise<T>): Promise<{ r: T; n: number }> {
  const before = decoderTotals.framesDecoded;
  const r = await f();
  return { r, n: decoderTotals.framesDecoded - before };
}

t.test('ask() and batch: a repeat on a file or on bytes decodes nothing (LLaVA pair, pooled)', async (t) => {
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const first = await decodedBy(() => ask(clip, 'What is it?', { model, ...GEN }));
  t.ok(first.n >= 4, `first ask decoded ${first.n} frames`);
  const again = await decodedBy(() => ask(clip, 'And the colours?', { model, ...GEN }));
  t.equal(again.n, 0, 'the repeat decoded no frame');
  const job = await decodedBy(() => runJob(model, { id: 'j', video: clip, task: 'ask', question: 'What is it?', options: GEN }));
  t.equal(job.n, 0, 'a batch job on the same file decoded no frame');
  t.equal(job.r.text, first.r.text, 'and answers as the first ask');
  t.type(first.r.text, 'string');
  const other = await decodedBy(() => ask(clip, 'What is it?', { model, ...GEN, frames: 3 }));
  t.ok(other.n >= 3, 'other sampling options are another key: decoded');
  const bytes = readFileSync(clip);
  const b1 = await decodedBy(() => ask(new Uint8Array(bytes), 'What is it?', { model, ...GEN }));
  const b2 = await decodedBy(() => ask(new Uint8Array(bytes), 'What is it?', { model, ...GEN }));
  t.ok(b1.n >= 4, 'bytes: the first read decodes');
  t.equal(b2.n, 0, 'bytes: the repeat (same hash) decodes nothing');
  t.equal(b2.r.text, b1.r.text, 'the same answer');
  t.same(b2.r.tokens, b1.r.tokens, 'the same prompt');
});

t.test('readVideo: only the frames the cache lost are decoded, and give the same embeddings', async (t) => {
  const probeModel = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
  const grid = (await probeModel.encode([{ t: 0, width: probeModel.info.imageSize!, height: probeModel.info.imageSize!, rgb: new Uint8Array(probeModel.info.imageSize! ** 2 * 3) }]))[0]!;
  probeModel.dispose();
  // room for two of the four frames' grids: the LRU keeps the last two
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1, cache: { maxBytes: Math.floor(grid.data.byteLength * 2.5) } });
  t.teardown(() => model.dispose());
  const q: ReadQuery = { model, strategy: 'concat', frames: 4, timeTokens: 'none', preamble: false, contextSize: 2048, fit: 'pad', signal: new AbortController().signal };
  const first = await readVideo(clip, q);
  t.ok(first.decoded >= 4);
  t.equal(model.cache!.size, 2, 'the cache holds two of the four grids');
  const asked: number[][] = [];
  const again = await readVideo(clip, { ...q, encoder: { encodeWithStats: (frames, o) => model.encodeWithStats(frames, { ...o, missing: (idx) => { asked.push(idx); return o.missing!(idx); } }) } });
  t.same(asked, [[0, 1]], 'the two frames the cache lost were asked for, and only they');
  await t.rejects(model.encodeWithStats([{ t: 0, width: 2, height: 2, rgb: new Uint8Array(0) }], { missing: async () => [] }), { code: 'ERR_INVALID_ARG' },
    'missing without a source: frames without pixels cannot be known');
  t.ok(again.decoded > 0, `decoded ${again.decoded} frames for them`);
  t.same(again.encoded.kind === 'grids' && again.encoded.stats, { encoded: 2, cached: 2, batches: again.encoded.kind === 'grids' ? again.encoded.stats!.batches : 0, ms: again.encoded.kind === 'grids' ? again.encoded.stats!.ms : 0 });
  const a = first.encoded.kind === 'grids' ? first.encoded.grids : [];
  const b = again.encoded.kind === 'grids' ? again.encoded.grids : [];
  t.same(b.map((g) => g.t), a.map((g) => g.t), 'the same frame times');
  for (let i = 0; i < 4; i++) t.ok(Buffer.from(a[i]!.data.buffer).equals(Buffer.from(b[i]!.data.buffer)), `frame ${i}: the same embedding`);
});

t.test('readVideo on the native path (Qwen2-VL pair): a repeat gets the same pixels; lazily when asked', async (t) => {
  const model = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const q: ReadQuery = { model, strategy: 'auto', frames: 4, timeTokens: 'none', preamble: false, contextSize: 2048, fit: 'pad', signal: new AbortController().signal };
  const first = await readVideo(clip, q);
  t.equal(first.plan.path, 'native');
  const pixels = first.video.frames.map((f) => Buffer.from(f.rgb));
  const lazy = await decodedBy(() => readVideo(clip, { ...q, lazyPixels: true }));
  t.equal(lazy.n, 0, 'nothing decoded before the pixels are asked for');
  t.ok(lazy.r.video.frames.every((f) => f.rgb.length === 0));
  const filled = await decodedBy(() => lazy.r.pixels!());
  t.ok(filled.n >= 4 && lazy.r.decoded === filled.n, `pixels() decoded ${filled.n} frames and says so`);
  lazy.r.video.frames.forEach((f, i) => t.ok(Buffer.from(f.rgb).equals(pixels[i]!), `frame ${i}: the same pixels`));
  const eager = await readVideo(clip, q);
  t.ok(eager.video.frames.every((f, i) => Buffer.from(f.rgb).equals(pixels[i]!)), 'without lazyPixels the repeat decodes them at once');
});

t.test('identity and key', async (t) => {
  t.equal(await mediaIdentity('http://example.com/a.mp4'), undefined, 'a URL has no identity without reading it');
  t.equal(await mediaIdentity('/nonexistent/a.mp4'), undefined);
  t.match(await mediaIdentity(clip), /:\d+:[\d.]+$/, 'a file: real path, size, mtime');
  t.equal(await mediaIdentity(new Uint8Array([1, 2])), await mediaIdentity(new Uint8Array([1, 2])));
  const base = { strategy: 'auto' as const, timeTokens: 'none' as const, preamble: false, contextSize: 2048, fit: 'pad' as const };
  t.not(memoKey('x', { ...base, frames: 4 }), memoKey('x', { ...base, frames: 5 }));
  t.not(memoKey('x', { ...base, fps: 1 }), memoKey('x', { ...base, fps: 2 }));
  t.not(memoKey('x', { ...base, fps: 1, fpsRule: 'ffmpeg' }), memoKey('x', { ...base, fps: 1 }), 'the fps rule chooses other frames');
  t.not(memoKey('x', { ...base, fps: 1, fpsRule: 'ffmpeg' }), memoKey('x', { ...base, fps: 1, fpsRule: 'step' }));
  t.not(memoKey('x', { ...base, audio: true }), memoKey('x', base), 'sound is remembered under its own key');
  t.not(memoKey('x', { ...base, subtitles: 'en' }), memoKey('x', { ...base, subtitles: 'fr' }));
  t.equal(memoKey('x', { ...base, subtitles: 'talk.srt' }), undefined, 'a subtitle file of its own is read again');
  const memo = new MediaMemo(4096);
  const probe = { duration: 1 } as never, plan = { path: 'pooled' } as never;
  for (let i = 0; i < 100; i++) memo.entries.set(`k${i}`, { probe, plan, frames: [{ index: 0, t: 0, width: 1, height: 1 }], duration: 1, variant: '' });
  t.ok(memo.entries.calculatedSize <= 4096 && memo.entries.size < 100, `bounded: ${memo.entries.size} entries, ${memo.entries.calculatedSize} bytes`);
});

t.test('an ask aborted while it waits for the same video\'s first read rejects with ERR_ABORTED, and the first read goes on', async (t) => {
  const model = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1 });
  t.teardown(() => model.dispose());
  const opts = { model, ...GEN, frames: 6 }; // a key no other test read, so the first read is in flight
  const first = ask(clip, 'What is it?', opts);
  const ac = new AbortController();
  const second = ask(clip, 'What is it?', { ...opts, signal: ac.signal });
  setTimeout(() => ac.abort(), 5);
  await t.rejects(second, { code: 'ERR_ABORTED' }, 'a documented VidlmError, not the signal\'s raw AbortError');
  t.type((await first).text, 'string', 'the first read was not aborted with it');
});
