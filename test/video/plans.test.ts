/** Sampling plans: each method's index rule against indices computed by hand from its formula. */
import t from 'tap';
import {
  cfrTimeline, ffmpegFpsIndices, fpsTimes, linspace, listTimeline, litaIndices, resolvePlan,
  roundHalfAway, roundHalfEven, stepIndices, uniformIndices, convertSpec, parseSize, cutWindows, windowStarts,
  rotationFilters, streamTimeline,
} from '../../lib/video/index.js';

t.test('rounding helpers', async (tt) => {
  tt.same([0.5, 1.5, 2.5, -0.5, 2.4999].map(roundHalfEven), [0, 2, 2, -0, 2]);
  tt.same([0.5, 1.5, 2.5, -0.5].map(roundHalfAway), [1, 2, 3, -1]);
  tt.same(linspace(0, 9, 4), [0, 3, 6, 9]);
  tt.same(linspace(0, 10, 1), [0]);
  tt.same(linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
});

t.test('Video-LLaVA / LLaVA-OneVision: linspace(0, n-1, N, dtype=int)', async (tt) => {
  // n = 300, N = 8: step 299/7 = 42.714…: 0, 42.71, 85.43, 128.14, 170.86, 213.57, 256.29, 299
  tt.same(uniformIndices(300, 8), [0, 42, 85, 128, 170, 213, 256, 299]);
  // n = 120, N = 16: step 119/15 = 7.9333
  tt.same(uniformIndices(120, 16), [0, 7, 15, 23, 31, 39, 47, 55, 63, 71, 79, 87, 95, 103, 111, 119]);
  tt.same(uniformIndices(5, 5), [0, 1, 2, 3, 4]);
  tt.same(uniformIndices(10, 1), [0]);
});

t.test('PLLaVA get_index: int(seg/2 + round(seg*i)), seg = (n-1)/N', async (tt) => {
  // n = 300, N = 16: seg = 299/16 = 18.6875, seg/2 = 9.34375
  // round(seg*i): 0, 19, 37, 56, 75, 93, 112, 131, 150, 168, 187, 206, 224, 243, 262, 280
  tt.same(uniformIndices(300, 16, 'middle'), [9, 28, 46, 65, 84, 102, 121, 140, 159, 177, 196, 215, 233, 252, 271, 289]);
  // n = 33, N = 4: seg = 8, seg/2 = 4: 4, 12, 20, 28
  tt.same(uniformIndices(33, 4, 'middle'), [4, 12, 20, 28]);
});

t.test('LITA: round(linspace(0, n-1, 100)), half to even', async (tt) => {
  const idx = litaIndices(600);
  tt.equal(idx.length, 100);
  // step 599/99 = 6.0505…: i=1 → 6.05 → 6; i=50 → 302.53 → 303; i=99 → 599
  tt.same([idx[0], idx[1], idx[2], idx[50], idx[98], idx[99]], [0, 6, 12, 303, 593, 599]);
  // n = 199: step 198/99 = 2 exactly → even numbers
  tt.same(litaIndices(199).slice(0, 5), [0, 2, 4, 6, 8]);
  // half-to-even ties: n = 4, T = 3: linspace(0, 3, 3) = 0, 1.5, 3 → 0, 2, 3
  tt.same(uniformIndices(4, 3, 'round'), [0, 2, 3]);
  // n = 6, T = 3: 0, 2.5, 5 → 0, 2, 5 (2.5 rounds to even 2)
  tt.same(uniformIndices(6, 3, 'round'), [0, 2, 5]);
});

t.test('Video-ChatGPT and Video-LLaMA rules', async (tt) => {
  // VCG: n = 10, N = min(10, 100) = 10, seg = 0.9: round(0.9i) = 0,1,2,3,4,4,5,6,7,8,9 (4.5 → 4)
  // (a_i + a_{i+1}) // 2 = 0,1,2,3,4,4,5,6,7,8
  tt.same(uniformIndices(10, 100, 'vcgpt'), [0, 1, 2, 3, 4, 4, 5, 6, 7, 8]);
  // Video-LLaMA: arange(0, 100, 100/8 = 12.5) → 0, 12.5, 25, … → int
  tt.same(uniformIndices(100, 8, 'start'), [0, 12, 25, 37, 50, 62, 75, 87]);
});

t.test('fps rules', async (tt) => {
  // OneVision reader: step = round(29.97 / 1) = 30
  tt.same(stepIndices(95, 29.97, 1), [0, 30, 60, 90]);
  // Valley 0.5 fps at 30 fps: step 60
  tt.same(stepIndices(130, 30, 0.5), [0, 60, 120]);
  tt.same(fpsTimes(1, 3, 2), [1, 1.5, 2, 2.5, 3]);
  // ffmpeg fps=1 on 10 frames at 4 fps (0, .25, …, 2.25), end 2.5:
  // rounded input pts: 0,0,1(0.5→1),1,1,1,2(1.5→2),2,2,2; status pts round(2.5) = 3
  // slot 0 → last frame with q <= 0 = #1; slot 1 → #5; slot 2 → #9
  const times = Array.from({ length: 10 }, (_, i) => i / 4);
  tt.same(ffmpegFpsIndices(times, 2.5, 1), [1, 5, 9]);
  // fps above the input rate duplicates frames: 2 frames at 0 and 1 s, end 2 s, fps 2 → slots 0..3
  tt.same(ffmpegFpsIndices([0, 1], 2, 2), [0, 0, 1, 1]);
  // llama.cpp default 4 fps on a 30 fps clip: 120 frames → 16 outputs over 4 s
  const t30 = Array.from({ length: 120 }, (_, i) => i / 30);
  const four = ffmpegFpsIndices(t30, 4, 4);
  tt.equal(four.length, 16);
  // slot k takes the last frame whose pts*4 rounds to <= k: frame 7 is 0.2333 s → 0.93 → 1, so slot 0 is frame 3 (0.1 → 0.4 → 0)
  tt.same(four.slice(0, 4), [3, 11, 18, 26]);
});

t.test('resolvePlan: segments, clamping and warnings', async (tt) => {
  const tl = cfrTimeline(120, 30);
  tt.same(resolvePlan({ uniform: 4 }, tl).frames.map((f) => f.index), [0, 39, 79, 119]);
  const seg = resolvePlan({ uniform: 3, segment: [1, 2] }, tl);
  tt.same(seg.range, [30, 60]);
  tt.same(seg.frames.map((f) => f.index), [30, 45, 60]);
  const many = resolvePlan({ uniform: 500 }, tl);
  tt.equal(many.frames.length, 120);
  tt.match(many.warning, /asked for 500 frames but the video has 120/);
  const lita = resolvePlan({ lita: 100 }, tl);
  tt.equal(lita.frames.length, 100);
  tt.equal(lita.warning, undefined);
  const fps = resolvePlan({ fps: 1 }, tl);
  tt.same(fps.frames.map((f) => f.index), [0, 30, 60, 90]);
  const dense = resolvePlan({ fps: 60 }, tl);
  tt.equal(dense.frames.length, 120);
  tt.match(dense.warning, /each frame is returned once/);
  const capped = resolvePlan({ fps: 10, max: 4 }, tl);
  tt.same(capped.frames.map((f) => f.index), [0, 39, 79, 119]);
  tt.match(capped.warning, /exceed max 4/);
  // at or after, not nearest: 0.51 s is between frame 15 (0.5) and 16 (0.5333)
  tt.same(resolvePlan({ times: [0.51, 0.5, 0.4999995] }, tl).frames.map((f) => f.index), [16, 15, 15]);
  const times = resolvePlan({ times: [0.5, 10] }, tl);
  tt.same(times.frames.map((f) => f.index), [15, 119]);
  tt.match(times.warning, /after the video's last frame/);
  const step = resolvePlan({ fps: 2, rule: 'step' }, tl, 30);
  tt.same(step.frames.map((f) => f.index), [0, 15, 30, 45, 60, 75, 90, 105]);
  const ff = resolvePlan({ fps: 4, rule: 'ffmpeg' }, tl);
  tt.equal(ff.frames.length, 16);
  const vfr = listTimeline([0, 0.1, 0.2, 1, 1.1, 2]);
  tt.same(resolvePlan({ times: [0.15, 0.5] }, vfr).frames.map((f) => f.index), [2, 3]);
  tt.same(resolvePlan({ fps: 1 }, vfr).frames.map((f) => f.index), [0, 3, 5]);
  for (const bad of [{ uniform: 0 }, { uniform: 2.5 }, { fps: -1 }, { times: [] }, { segment: [3, 1], uniform: 2 }, {} as never]) {
    tt.throws(() => resolvePlan(bad as never, tl), { code: 'ERR_INVALID_ARG' }, JSON.stringify(bad));
  }
  tt.throws(() => resolvePlan({ uniform: 2 }, cfrTimeline(0, 30)), { code: 'ERR_VIDEO_EMPTY' });
});

t.test('conversion specs, sizes and rotation', async (tt) => {
  // the geometry itself (pad, crop, aspect, rotation) is checked on pixels in accuracy.test.ts and stills.test.ts
  tt.same(convertSpec({ size: '336x336', fit: 'pad', padColor: [1, 2, 3] }, null), { fit: 'pad', scaler: 'bicubic', padColor: [1, 2, 3], width: 336, height: 336 });
  tt.same(convertSpec({}, [1, 2, 3, 4, 5, 6, 7, 8, 9]), { fit: 'stretch', scaler: 'bicubic', padColor: [0, 0, 0], matrix: [1, 2, 3, 4, 5, 6, 7, 8, 9] });
  for (const bad of [{ fit: 'zoom' }, { scaler: 'magic' }, { padColor: [0, 0] }, { padColor: [0, 0, 256] }, { padColor: 'white' }, { size: 'big' }]) {
    tt.throws(() => convertSpec(bad as never, null), { code: 'ERR_INVALID_ARG' }, JSON.stringify(bad));
  }
  tt.same(parseSize('224x224'), [224, 224]);
  tt.same(parseSize(384), [384, 384]);
  tt.equal(parseSize(undefined), null);
  tt.throws(() => parseSize('big'), { code: 'ERR_INVALID_ARG' });
  // display matrices: rotate=90 tag → ffprobe rotation 90 → ffmpeg transpose=cclock
  tt.same(rotationFilters([0, -65536, 0, 65536, 0, 0, 0, 0, 1 << 30]), { filters: ['transpose=cclock'], rotation: 90, flipped: false });
  tt.same(rotationFilters([0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30]), { filters: ['transpose=clock'], rotation: 270, flipped: false });
  tt.same(rotationFilters([-65536, 0, 0, 0, -65536, 0, 0, 0, 1 << 30]).filters, ['hflip', 'vflip']);
  tt.same(rotationFilters(null), { filters: [], rotation: 0, flipped: false });
});

t.test('audio windows', async (tt) => {
  tt.same(windowStarts(0, 2, 0.5), [0, 0.5, 1, 1.5]);
  const pcm = Float32Array.from({ length: 20 }, (_, i) => i);
  const w = cutWindows(pcm, 0, 10, 1, 0.5, [0, 0.5, 1.8]);
  tt.same([...w[0]!.samples], [0, 1, 2, 3, 4]);
  tt.equal(w[0]!.samples.buffer, pcm.buffer, 'inside the clip: a view, no copy');
  tt.same([...w[2]!.samples], [18, 19, 0, 0, 0], 'past the end: zero-padded');
});

t.test('streamTimeline: a still, a constant rate with a known count, else the scanned times (scanned only then)', async (tt) => {
  let scans = 0;
  const scan = async () => { scans++; return { times: [0, 0.5, 1.5], end: 2 }; };
  const still = await streamTimeline({ isImage: true, frameCount: 1, vfr: false, avgFps: 25, startTime: 0 }, 0.04, scan);
  tt.same([still.n, still.time(0), still.end, still.exact], [1, 0, 0, true]);
  const cfr = await streamTimeline({ isImage: false, frameCount: 50, vfr: false, avgFps: 25, startTime: 2 }, 0.04, scan);
  tt.same([cfr.n, cfr.time(25), cfr.end, cfr.exact, cfr.tick], [50, 3, 4, false, 0.04]);
  tt.equal(scans, 0, 'no scan for a still or a constant rate');
  const vfr = await streamTimeline({ isImage: false, frameCount: 50, vfr: true, avgFps: 25, startTime: 0 }, 0.001, scan);
  tt.same([vfr.n, vfr.time(2), vfr.end, vfr.exact, vfr.tick], [3, 1.5, 2, true, 0.001]);
  const unknown = await streamTimeline({ isImage: false, frameCount: null, vfr: false, avgFps: 25, startTime: 0 }, 0.001, scan);
  tt.equal(unknown.n, 3);
  tt.equal(scans, 2, 'a variable rate or an unknown count is scanned');
});
