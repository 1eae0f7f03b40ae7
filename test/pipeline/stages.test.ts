// lib/pipeline: each stage is a plain value a test builds by hand, and the cache key follows
// every option that changes the pixels (the fit bug: a padded frame's embedding served for a
// cropped one).
import t from 'tap';
import { countTokens } from '../../lib/assembly/index.js';
import type { FrameGrid } from '../../lib/assembly/types.js';
import { assemble, frameVariant, planVideo, render, sample, encode, QUESTION, type ChatTemplate, type VideoPlan } from '../../lib/pipeline/index.js';
import { openVideo } from '../../lib/video/index.js';
import type { VideoProbe } from '../../lib/video/types.js';
import { media } from '../fixtures/media.js';
import { tinyModel } from '../inference/helpers.js';

const info = { imageSize: 112, imageGrid: { nx: 8, ny: 8 }, tokensPerImage: 64, mrope: false, architecture: 'llama' } as never;
const probe = (duration: number, fps: number): VideoProbe => ({
  source: 'hand', format: 'mp4', duration, startTime: 0, bitRate: null, isImage: false, isLive: false, audio: null,
  video: { avgFps: fps } as never, subtitles: [],
});
const query = { strategy: 'concat' as const, timeTokens: 'none' as const, preamble: false, contextSize: 4096, fit: 'pad' as const };

t.test('plan: the budget is checked before decoding, fps plans included', async (t) => {
  // concat keeps every token: 64 per frame; 4096 - 256 reserved = 3840 → 60 frames fit
  const ok = planVideo(probe(10, 30), info, { ...query, frames: 60 });
  t.equal(ok.maxFrames, 60);
  t.same(ok.sample, { uniform: 60, rule: 'linspace' });
  t.same(ok.frame, { size: [112, 112], fit: 'pad' });
  t.throws(() => planVideo(probe(10, 30), info, { ...query, frames: 61 }), { code: 'ERR_CONTEXT_FULL', details: { frames: 61, visualTokens: 61 * 64 } });
  // 2 fps over 40 s: at least floor(40 * 2) - 1 = 79 frames, more than 60: refused with no video opened at all
  t.throws(() => planVideo(probe(40, 30), info, { ...query, fps: 2 }), { code: 'ERR_CONTEXT_FULL', details: { frames: 79 } });
  // the stream's rate bounds it: 2 fps asked of a 1 fps video over 40 s gives at most 39 → fits
  t.equal(planVideo(probe(40, 1), info, { ...query, fps: 2 }).count, 39);
  // unknown length: nothing to check before, decoding stops at maxFrames (sample stage)
  t.equal(planVideo(probe(0, 30), info, { ...query, fps: 2 }).count, 0);
  t.equal(planVideo(probe(10, 30), info, { ...query, strategy: 'native' }).count, 16, 'one default frame count for the native path');
  t.equal(planVideo(probe(10, 30), info, { ...query, strategy: 'native' }).path, 'native');
});

t.test('assemble + render: a hand-built plan and grids give the method\'s tokens around the template', async (t) => {
  const plan: VideoPlan = { strategy: 'pllava', path: 'pooled', sample: { uniform: 2 }, frame: {}, variant: frameVariant({}), count: 2, byCount: true, maxFrames: 10, reserve: 0 };
  const grids: FrameGrid[] = [0, 1].map((k) => ({ t: k, nx: 4, ny: 4, dim: 2, data: Float32Array.from({ length: 32 }, (_, i) => i + 100 * k) }));
  const a = assemble({ kind: 'grids', grids, ms: 0 }, plan, 2, { timeTokens: 'none', preamble: false }, () => true);
  if (a.kind !== 'items') throw new Error('pooled path gives items');
  t.equal(a.visual, 2 * 2 * 2, 'PLLaVA pools 4×4 to 2×2 per frame');
  t.equal(a.visual, countTokens('pllava', { frames: 2, nx: 4, ny: 4 }));
  // the first pooled token of frame 0: mean of grid cells (0,0),(1,0),(0,1),(1,1), dim 0 = values 0, 2, 8, 10
  const first = a.items.find((it) => 'embeddings' in it) as { embeddings: Float32Array };
  t.equal(first.embeddings[0], (0 + 2 + 8 + 10) / 4);
  const template: ChatTemplate = {
    mediaMarker: '<m>',
    applyTemplate: (msgs) => msgs.map((m) => `[${m.role}]${m.content}`).join('') + '[assistant]',
    formatTurn: (_h, m) => `[${m.role}]${m.content}[assistant]`,
    imageWrap: { before: Int32Array.of(7), after: Int32Array.of(8) },
  };
  const r = render(template, a, { system: 'S' });
  if (r.prefix.kind !== 'plan') throw new Error('pooled path gives a context plan');
  t.same(r.prefix.plan[0], { text: '[system]S[user]' });
  t.same(r.prefix.plan[1], { tokens: Int32Array.of(7) });
  t.same(r.prefix.plan[r.prefix.plan.length - 1], { tokens: Int32Array.of(8) }, 'the prefix ends after the video');
  t.same(r.rest, [{ text: `\n${QUESTION}[assistant]` }], 'the question waits in the rest');
  t.equal(r.history[1]?.content, `<m>\n${QUESTION}`);
  const vc = assemble({ kind: 'grids', grids, ms: 0 }, { ...plan, strategy: 'vcgpt' }, 2, { timeTokens: 'none', preamble: false }, () => true);
  const rv = render(template, vc);
  t.same(rv.prefix, { kind: 'plan', plan: [] }, 'Video-ChatGPT asks first: nothing can be evaluated before the question');
  const media = render(template, { kind: 'native', frames: [{ t: 0, width: 1, height: 1, rgb: new Uint8Array(3) }] });
  t.same(media.prefix.kind === 'native' && media.prefix.text, '[user]<m>');
});

t.test('the fit bug: pad then crop of one video gives different embeddings, each its own', async (t) => {
  const model = await tinyModel();              // with the embedding cache
  const fresh = await tinyModel({ cache: false });
  t.teardown(() => { model.dispose(); fresh.dispose(); });
  const clip = await media.h264();              // 384 × 256: padding and cropping differ
  const run = async (fit: 'pad' | 'crop', m = model) => {
    const src = await openVideo(clip);
    try {
      const plan = planVideo(src.probe, m.info, { ...query, frames: 2, fit });
      const video = await sample(src, plan, m.info, 4096, {});
      const enc = await encode(m, plan, video, { source: `${clip}:identity` });
      if (enc.kind !== 'grids') throw new Error('pooled');
      return enc.grids;
    } finally { await src.close(); }
  };
  const pad = await run('pad');
  const crop = await run('crop');
  const cropFresh = await run('crop', fresh);
  t.notSame(Array.from(crop[0]!.data.slice(0, 64)), Array.from(pad[0]!.data.slice(0, 64)), 'crop is not served the padded frame\'s embedding');
  t.same(Array.from(crop[0]!.data), Array.from(cropFresh[0]!.data), 'crop gets what an uncached encode of the cropped frame gives');
  const hits = model.cache!.hits;
  await run('pad');
  t.equal(model.cache!.hits, hits + 2, 'the same fit again is served from the cache');
});
