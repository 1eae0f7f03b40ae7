/**
 * Frame accuracy: on every generated clip type, the frame returned for a target shows the
 * counter of the frame that is really at that time.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t, { type Test } from 'tap';
import { openVideo, type VideoFrame } from '../../lib/video/index.js';
import { FPS, H, W, ffmpegFrame, meanAbsDiff, media, readCounter, stripes, type Mapper } from '../fixtures/media.js';

const near = (a: number, b: number, eps = 1e-3): boolean => Math.abs(a - b) <= eps;

function checkStripes(tt: Test, f: VideoFrame, map?: Mapper): void {
  const [r, g, b] = stripes(f, map);
  tt.ok(r[0] > 200 && r[1] < 60 && r[2] < 60, `red stripe is red (${r})`);
  tt.ok(g[1] > 200 && g[0] < 60 && g[2] < 60, `green stripe is green (${g})`);
  tt.ok(b[2] > 200 && b[0] < 60 && b[1] < 60, `blue stripe is blue (${b})`);
}

for (const kind of ['h264', 'vp9', 'noAudio'] as const) {
  t.test(`${kind}: every plan returns the frame at its time`, async (tt) => {
    const v = await openVideo(await media[kind]());
    tt.teardown(() => v.close());
    const n = kind === 'noAudio' ? 90 : 120;
    const p = v.probe;
    tt.equal(p.video!.width, W);
    tt.equal(p.video!.height, H);
    tt.ok(near(p.video!.avgFps, FPS, 0.05), `fps ${p.video!.avgFps}`);
    const tl = await v.timeline();
    tt.equal(tl.n, n, 'frame count');
    tt.equal(p.video!.frameCount, n);
    for (const [name, plan] of [
      ['uniform 8', { uniform: 8 }],
      ['uniform 16 middle', { uniform: 16, rule: 'middle' as const }],
      ['lita 10', { lita: 10 }],
      ['fps 2', { fps: 2 }],
      ['times', { times: [0, 1.5, 0.5, 2.0001, 3.3] as number[] }],
      ['segment', { uniform: 5, segment: [1, 2] as [number, number] }],
    ] as const) {
      const frames = await v.sample(plan);
      tt.ok(frames.length > 0, `${name}: frames`);
      for (const f of frames) {
        tt.equal(readCounter(f), f.index, `${name}: frame ${f.index} shows its counter`);
        tt.ok(near(f.t, f.index / FPS, 0.002), `${name}: t ${f.t} is the time of frame ${f.index}`);
        tt.equal(f.rgb.length, f.width * f.height * 3);
      }
      frames.forEach((f, k) => {
        if (frames.targets[k]! <= (n - 1) / FPS) tt.ok(f.t >= frames.targets[k]! - 0.5 / FPS - 1e-6, `${name}: frame at or after target ${frames.targets[k]}`);
        else tt.equal(f.index, n - 1, `${name}: a time past the end gives the last frame`);
      });
      if (name === 'times') tt.match(frames.warning ?? '', kind === 'noAudio' ? /after the video's last frame/ : /^$/);
    }
    const all = await v.sample({ all: true }, { size: [96, 64] });
    tt.equal(all.length, n);
    tt.same(all.map((f) => readCounter(f)), Array.from({ length: n }, (_, i) => i), 'all frames in order, each once');
    checkStripes(tt, (await v.sample({ times: [1] }))[0]!);
  });
}

t.test('h264: seek and sequential strategies agree; targets in any order', async (tt) => {
  const v = await openVideo(await media.h264());
  tt.teardown(() => v.close());
  const times = [3.9, 0.1, 2.0, 2.03, 1.0];
  const a = await v.sample({ times }, { strategy: 'seek' });
  const b = await v.sample({ times }, { strategy: 'sequential' });
  const c = await v.sample({ times });
  tt.same(a.map((f) => f.index), [117, 3, 60, 61, 30]);
  tt.same(b.map((f) => f.index), a.map((f) => f.index));
  tt.same(c.map((f) => f.index), a.map((f) => f.index));
  tt.same(a.map((f) => readCounter(f)), [117, 3, 60, 61, 30]);
  tt.same(b.map((f) => readCounter(f)), [117, 3, 60, 61, 30]);
  // every frame and every other frame with forced seeks: the reused decoder never hands out a stale frame
  for (const plan of [{ all: true as const }, { times: Array.from({ length: 60 }, (_, i) => (2 * i + 0.5) / 30) }, { times: Array.from({ length: 40 }, (_, i) => (3 * i + 2.2) / 30) }]) {
    const s = await v.sample(plan, { size: 48, strategy: 'seek' });
    const want = s.map((f) => f.index);
    tt.same(s.map((f) => readCounter(f, (x, y) => [Math.floor(x / 8), Math.floor((y * 48) / 256)])), want, `forced seeks: ${JSON.stringify(plan).slice(0, 40)}`);
    tt.same(want, s.targets.map((t) => Math.min(119, Math.ceil(t * 30 - 1e-6))), 'first frame at or after each time');
  }
});

t.test('vfr clip: index plans follow the real timestamps', async (tt) => {
  const v = await openVideo(await media.vfr());
  tt.teardown(() => v.close());
  const tl = await v.timeline();
  tt.equal(tl.n, 90);
  tt.ok(tl.exact, 'scanned timeline');
  tt.ok(v.probe.video!.vfr, 'detected as VFR');
  const timeOf = (i: number): number => (i < 60 ? i / 30 : 2 + (i - 60) / 10);
  const frames = await v.sample({ uniform: 10 });
  // linspace(0, 89, 10, dtype=int)
  tt.same(frames.map((f) => f.index), [0, 9, 19, 29, 39, 49, 59, 69, 79, 89]);
  for (const f of frames) {
    tt.equal(readCounter(f), f.index);
    tt.ok(near(f.t, timeOf(f.index), 0.002), `t ${f.t} vs ${timeOf(f.index)}`);
  }
  const at = await v.sample({ times: [2.15, 1.0, 4.9] });
  tt.same(at.map((f) => readCounter(f)), [62, 30, 89], 'first frame at or after each time');
  const fps = await v.sample({ fps: 5 });
  tt.same(fps.slice(0, 4).map((f) => f.index), [0, 6, 12, 18]);
  tt.same(fps.slice(10, 14).map((f) => f.index), [60, 62, 64, 66], 'at 10 fps every other frame is 0.2 s apart');
});

t.test('rotated phone clip: frames come out upright, as the ffmpeg program shows them', async (tt) => {
  for (const deg of [90, 270] as const) {
    const path = await media.rotated(deg);
    const v = await openVideo(path);
    tt.teardown(() => v.close());
    tt.equal(v.probe.video!.rotation, deg);
    tt.equal(v.probe.video!.displayWidth, H);
    tt.equal(v.probe.video!.displayHeight, W);
    const [f] = await v.sample({ times: [2] });
    tt.equal(f!.width, H);
    tt.equal(f!.height, W);
    const ref = ffmpegFrame(path, 2);
    tt.equal(ref.width, H);
    tt.ok(meanAbsDiff(f!, ref) < 1.5, `same picture as ffmpeg (mean abs diff ${meanAbsDiff(f!, ref).toFixed(3)})`);
    // stored (x, y) shows at (y, W-1-x) after a 90° counter-clockwise turn, (H-1-y, x) after 270°
    const map: Mapper = deg === 90 ? (x, y) => [y, W - 1 - x] : (x, y) => [H - 1 - y, x];
    tt.equal(readCounter(f!, map), 60, `counter reads 60 through the ${deg}° mapping`);
    checkStripes(tt, f!, map);
    const [s] = await v.sample({ times: [2] }, { size: [112, 168] });
    tt.equal(readCounter(s!, (x, y) => { const [a, b] = map(x, y); return [Math.floor((a * 112) / H), Math.floor((b * 168) / W)]; }), 60);
  }
});

t.test('1-frame clip and still images are one-frame sources', async (tt) => {
  const one = await openVideo(await media.oneFrame());
  tt.teardown(() => one.close());
  tt.equal((await one.timeline()).n, 1);
  const f1 = await one.sample({ uniform: 8 });
  tt.equal(f1.length, 1);
  tt.match(f1.warning, /asked for 8 frames/);
  tt.equal(readCounter(f1[0]!), 5);
  for (const ext of ['png', 'jpg', 'webp', 'gif'] as const) {
    const v = await openVideo(await media.image(ext));
    tt.teardown(() => v.close());
    tt.equal(v.probe.video!.frameCount, 1, `${ext}: one frame`);
    if (ext !== 'gif') tt.ok(v.probe.isImage, `${ext}: image`);
    const fr = await v.sample({ uniform: 4 }, { size: [192, 128] });
    tt.equal(fr.length, 1);
    tt.equal(fr[0]!.t, 0);
    tt.equal(readCounter(fr[0]!), 37, `${ext}: counter`);
    checkStripes(tt, fr[0]!);
  }
});

t.test('anamorphic pixels are honoured', async (tt) => {
  const v = await openVideo(await media.anamorphic());
  tt.teardown(() => v.close());
  tt.same(v.probe.video!.pixelAspect, [2, 1]);
  tt.equal(v.probe.video!.displayWidth, 2 * W);
  const [f] = await v.sample({ times: [0] });
  tt.equal(f!.width, 2 * W);
  tt.equal(f!.height, H);
  tt.equal(readCounter(f!), 0);
  const [p] = await v.sample({ times: [0.5] }, { size: 256, fit: 'pad' });
  // 768x256 into 256x256: 256x85 centred, black bars above and below
  tt.same([p!.width, p!.height], [256, 256]);
  tt.same([...p!.rgb.subarray(0, 3)], [0, 0, 0], 'pad is black');
  tt.equal(readCounter(p!, (x, y) => [Math.floor(x / 1.5), Math.floor(85 * y / 256) + 85]), 15);
});

t.test('fit modes and sizes', async (tt) => {
  const v = await openVideo(await media.h264());
  tt.teardown(() => v.close());
  const [s] = await v.sample({ times: [1] }, { size: '336x336' });
  tt.same([s!.width, s!.height], [336, 336]);
  tt.equal(readCounter(s!), 30);
  const [c] = await v.sample({ times: [1] }, { size: [128, 128], fit: 'crop' });
  // 384x256 → 192x128, centre crop 128x128 starting at x = 32
  tt.same([c!.width, c!.height], [128, 128]);
  tt.equal(c!.rgb.length, 128 * 128 * 3);
  // block i of the stored picture sits at x = (32i + 16) / 2 - 32 in the crop
  const bitAt = (i: number): boolean => c!.rgb[(32 * 128 + Math.floor((32 * i + 16) / 2) - 32) * 3]! > 128;
  tt.same([2, 3, 4, 5, 6].map(bitAt), [true, true, true, false, false], 'bits 2-6 of 30 (block 1 is cropped away)');
  const [p] = await v.sample({ times: [1] }, { size: [128, 128], fit: 'pad', padColor: [122, 116, 104] });
  tt.same([...p!.rgb.subarray(0, 3)], [122, 116, 104], 'LLaVA mean-colour pad');
});

t.test('an mp4 over http (range requests) samples like the file', async (tt) => {
  const { createServer } = await import('node:http');
  const { readFile } = await import('node:fs/promises');
  const bytes = await readFile(await media.h264());
  const server = createServer((req, res) => {
    const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
    if (!m) { res.writeHead(200, { 'content-length': bytes.length, 'accept-ranges': 'bytes', 'content-type': 'video/mp4' }); res.end(bytes); return; }
    const start = Number(m[1]);
    const end = m[2] ? Number(m[2]) : bytes.length - 1;
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${bytes.length}`, 'content-length': end - start + 1, 'accept-ranges': 'bytes', 'content-type': 'video/mp4' });
    res.end(bytes.subarray(start, end + 1));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  tt.teardown(() => server.close());
  const v = await openVideo(`http://127.0.0.1:${(server.address() as { port: number }).port}/clip.mp4`, { timeout: 5 });
  tt.teardown(() => v.close());
  tt.equal(v.probe.isLive, false);
  tt.equal(v.probe.video!.frameCount, 120);
  const f = await v.sample({ times: [3.5, 0.5, 2] }, { size: 96 });
  tt.same(f.map((x) => readCounter(x)), [105, 15, 60]);
});

t.test('sparse plans on a long file decode in two lanes, with the same frames', async (tt) => {
  const path = await media.long();
  const v = await openVideo(path);
  tt.teardown(() => v.close());
  const plan = { uniform: 6 };
  const two = await v.sample(plan, { size: 96 });
  tt.same(two.map((f) => f.index), [0, 119, 239, 359, 479, 599]);
  tt.same(two.map((f) => readCounter(f)), two.map((f) => f.index), 'each frame shows its counter');
  tt.same(two.map((f) => Math.round(f.t * 10)), two.map((f) => f.index));
  const seeks = v.stats.seeks;
  tt.equal(v.stats.twoLaneWalks, 1, 'two lanes');
  process.env.VIDLM_LANES = '1';
  try {
    const one = await v.sample(plan, { size: 96 });
    tt.same(one.map((f) => f.index), two.map((f) => f.index));
    tt.equal(v.stats.twoLaneWalks, 1, 'VIDLM_LANES=1: one lane');
    tt.same(one.map((f) => Buffer.from(f.rgb).equals(Buffer.from(two[one.indexOf(f)]!.rgb))), [true, true, true, true, true, true], 'identical pictures');
  } finally {
    delete process.env.VIDLM_LANES;
  }
  tt.ok(seeks >= 5, `seeks ${seeks}`);
  // close while parked inside a two-lane loop
  const w = await openVideo(path);
  await tt.rejects((async () => { for await (const _ of w.frames({ uniform: 8 }, { size: 32 })) await w.close(); })(), { code: 'ERR_DISPOSED' });
  // abort during a two-lane walk
  const x = await openVideo(path);
  tt.teardown(() => x.close());
  const ac = new AbortController();
  const p = x.sample({ uniform: 5 }, { size: 32, signal: ac.signal });
  setImmediate(() => ac.abort());
  await tt.rejects(p, { code: 'ERR_ABORTED' });
  tt.equal(x.stats.twoLaneWalks, 1, 'the aborted walk used two lanes');
  tt.same((await x.sample({ times: [30] }, { size: 32 })).map((f) => f.index), [300], 'usable after an abort');
});

t.test('denser plans decode in runs between two lanes, with the same frames', async (tt) => {
  const path = await media.longer(); // 150 s at 4 fps, GOP 20
  for (const plan of [{ fps: 1 }, { lita: 100 }] as const) {
    const v = await openVideo(path);
    const two = await v.sample(plan, { size: 96 });
    const lanes = v.stats.twoLaneWalks;
    await v.close();
    process.env.VIDLM_LANES = '1';
    let one: VideoFrame[];
    try {
      const w = await openVideo(path);
      one = await w.sample(plan, { size: 96 });
      tt.equal(w.stats.twoLaneWalks, 0);
      await w.close();
    } finally {
      delete process.env.VIDLM_LANES;
    }
    const name = JSON.stringify(plan);
    tt.equal(lanes, 1, `${name}: two lanes`);
    tt.equal(two.length, 'fps' in plan ? 150 : 100, `${name}: frame count`); // fps 1: t = 0 … 149 (the clip ends at 149.75 s)
    tt.same(two.map((f) => readCounter(f)), two.map((f) => f.index), `${name}: each frame shows its counter`);
    tt.same(two.map((f) => [f.index, f.t]), one.map((f) => [f.index, f.t]), `${name}: same frames as one lane`);
    tt.ok(two.every((f, i) => Buffer.from(f.rgb).equals(Buffer.from(one[i]!.rgb))), `${name}: identical pictures`);
  }
});

t.test('two lanes wait for a slow frames() consumer and stop when it leaves', async (tt) => {
  const path = await media.longer();
  const full = await openVideo(path);
  await full.sample({ fps: 2 }, { size: 32 }); // 301 targets: 5 runs of ≤ 64
  const all = full.stats.framesDecoded;
  await full.close();
  const v = await openVideo(path);
  tt.teardown(() => v.close());
  let n = 0;
  for await (const f of v.frames({ fps: 2 }, { size: 32 })) {
    tt.equal(readCounter(f), f.index);
    if (++n === 3) {
      await new Promise((r) => setTimeout(r, 1500)); // time for the lanes to run ahead if they would
      break;
    }
  }
  tt.equal(v.stats.twoLaneWalks, 1);
  tt.ok(v.stats.framesDecoded < all * 0.8, `decoded ${v.stats.framesDecoded} of ${all} pictures: the lanes stopped ~2 runs ahead`);
  tt.same((await v.sample({ times: [100] }, { size: 32 })).map((f) => f.index), [400], 'usable after the loop left');
});

t.test('two lanes do not keep the frames a frames() loop has moved past', async (tt) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const v = await openVideo(await media.longer());
  tt.teardown(() => v.close());
  let freed = 0;
  const registry = new FinalizationRegistry(() => { freed++; });
  let n = 0;
  for await (const f of v.frames({ fps: 1 }, { size: 64 })) {
    registry.register(f.rgb, n);
    if (++n === 120) {
      for (let i = 0; i < 6; i++) { gc(); await new Promise((r) => setTimeout(r, 10)); }
      break;
    }
  }
  tt.equal(v.stats.twoLaneWalks, 1);
  tt.ok(freed >= 100, `${freed} of the first 120 frames were collected while the walk was still open`);
});
