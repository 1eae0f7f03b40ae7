// watch() on files with the tiny model: window times, each frame encoded once, one context
// rewound per window, events and their debounce (stub answers), LITA localize, skipping when
// answering falls behind, option errors.
import t from 'tap';
import { loadModel, type Model, type WatchEvent, type WatchItem, type WatchWindow } from '../../lib/index.js';
import { watch } from '../../lib/watch/watch.js';
import { watchWith } from '../../lib/watch/watch.js';
import { litaIndexToSeconds } from '../../lib/time/lita.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { media } from '../fixtures/media.js';
import { tinyModel } from '../inference/helpers.js';
import { colourClip, expectedTimes, isRed, sleep } from './helpers.js';

const model = await tinyModel({ cache: false, threads: 1 });
t.teardown(() => model.dispose());
// red during [6, 10) and [16, 20) of a 24 s clip at 10 fps
const RED: [number, number][] = [[6, 10], [16, 20]];
const clip = await colourClip(24, RED);
const redAt = (x: number): boolean => RED.some(([a, b]) => x >= a && x < b);

async function collect(it: AsyncIterable<WatchItem>): Promise<WatchItem[]> {
  const out: WatchItem[] = [];
  for await (const x of it) out.push(x);
  return out;
}
const windowsOf = (items: WatchItem[]) => items.filter((x): x is WatchWindow => x.type === 'window');
const eventsOf = (items: WatchItem[]) => items.filter((x): x is WatchEvent => x.type === 'event');

/** Counts the contexts a model creates and records every frame time it encodes. */
function spy(m: Model) {
  const contexts: Awaited<ReturnType<Model['createContext']>>[] = [];
  const encoded: number[] = [];
  const create = m.createContext.bind(m);
  const enc = m.encodeWithStats.bind(m);
  m.createContext = async (o) => { const c = await create(o); contexts.push(c); return c; };
  m.encodeWithStats = (frames, o) => { encoded.push(...frames.map((f) => f.t)); return enc(frames, o); };
  return { contexts, encoded, restore: () => { m.createContext = create; m.encodeWithStats = enc; } };
}

t.test('windows end every `every` s on the stream, hold the frames of their span, and each frame is encoded once on one context', async (t) => {
  const s = spy(model);
  t.teardown(s.restore);
  const every = 2, window = 6, fps = 1;
  const w = watch(clip, { model, every, window, fps, realtime: false, maxTokens: 4, temperature: 0, prompt: 'What changed?' });
  const items: WatchItem[] = [];
  for await (const x of w) {
    items.push(x);
    t.equal(w.context!.nPast(0), 0, `the context is rewound after window ${items.length}`);
  }
  const wins = windowsOf(items);
  t.same(wins.map((x) => x.windowEnd), [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24], 'ends at k × every, the last one after the file\'s last frames');
  const seen = new Set<number>();
  for (const x of wins) {
    const want = expectedTimes(x.windowEnd, window, fps);
    t.same(x.frameTimes.map((v) => Math.round(v * 1000) / 1000), want, `window ending at ${x.windowEnd} holds frames ${want.join(',')}`);
    t.equal(x.windowStart, Math.max(0, x.windowEnd - window));
    t.equal(x.frames, want.length);
    const fresh = want.filter((v) => !seen.has(v));
    t.equal(x.encoded, fresh.length, `window ending at ${x.windowEnd} encodes only its ${fresh.length} new frames`);
    fresh.forEach((v) => seen.add(v));
    t.ok(x.encoded <= every * fps || x.windowEnd <= window, 'encodes per window ≤ every × fps once the window is full');
    t.ok(x.text.length > 0 && x.tokens.generated > 0);
  }
  t.equal(s.encoded.length, new Set(s.encoded).size, `no frame encoded twice (${s.encoded.length} encodes)`);
  t.equal(s.encoded.length, 24, 'every sampled frame encoded exactly once');
  t.equal(s.contexts.length, 1, 'one context for the whole watch');
  t.ok(s.contexts[0]!.disposed, 'and it is freed at the end');
  t.equal(w.stats.skipped, 0, 'a recording read with realtime: false skips nothing');
  t.ok(w.stats.held <= (window + every) * fps + 1, `the buffer held ${w.stats.held} frames at the end`);
});

t.test('frames: N spreads N frames over each window (fps = N / window)', async (t) => {
  const items = await collect(watch(clip, { model, every: 4, window: 8, frames: 4, realtime: false, maxTokens: 2 }));
  for (const x of windowsOf(items)) t.same(x.frameTimes.map((v) => Math.round(v * 1000) / 1000), expectedTimes(x.windowEnd, 8, 0.5));
});

t.test('when: a stub answer that sees red gives one event per red run (debounced), at the first yes window', async (t) => {
  const every = 2, window = 4, fps = 1;
  const answers: string[] = [];
  const w = watchWith(clip, { model, every, window, fps, realtime: false, when: 'the screen turns red' }, {
    answer: (q) => { const a = q.frames.some(isRed) ? 'yes' : 'no'; answers.push(a); return a; },
  });
  const items = await collect(w);
  const wins = windowsOf(items);
  t.same(wins.map((x) => x.answer), answers, 'each window carries its parsed answer');
  // independently: a window is yes when one of its frame times falls in a red span
  const yes = wins.map((x) => expectedTimes(x.windowEnd, window, fps).some(redAt));
  t.same(wins.map((x) => x.answer === 'yes'), yes, 'the red frames are at their stream times');
  const rising = yes.flatMap((y, i) => (y && (i === 0 || !yes[i - 1]) ? [wins[i]!.windowEnd] : []));
  t.same(eventsOf(items).map((e) => e.windowEnd), rising, `events at window ends ${rising.join(', ')}`);
  t.equal(rising.length, 2);
  for (const e of eventsOf(items)) {
    t.equal(e.start, e.windowStart);
    t.equal(e.end, e.windowEnd);
    t.equal(e.localized, false);
    const at = items.indexOf(e);
    t.equal((items[at - 1] as WatchWindow).windowEnd, e.windowEnd, 'the event follows its window');
  }
  // cooldown 3: the two no windows between the red runs do not re-arm it
  const once = await collect(watchWith(clip, { model, every, window, fps, realtime: false, when: 'red', cooldown: 3 }, { answer: (q) => (q.frames.some(isRed) ? 'yes' : 'no') }));
  t.equal(eventsOf(once).length, 1, 'cooldown 3 merges the two red runs');
});

t.test('localize: the span of LITA time tokens becomes seconds inside the window', async (t) => {
  const asked: string[] = [];
  const items = await collect(watchWith(clip, { model, every: 2, window: 4, fps: 1, realtime: false, when: 'the screen turns red', localize: true }, {
    answer: (q) => { asked.push(q.kind); return q.kind === 'localize' ? '<t25> <t75>' : q.frames.some(isRed) ? 'yes' : 'no'; },
  }));
  const evs = eventsOf(items);
  t.equal(evs.length, 2);
  for (const e of evs) {
    const dur = e.windowEnd - e.windowStart;
    // LITA: idx · duration / 99, rounded to 2 decimals (worked by hand for dur 4: 1.01 and 3.03)
    t.equal(litaIndexToSeconds(25, dur), 1.01);
    t.equal(e.start, e.windowStart + 1.01);
    t.equal(e.end, e.windowStart + 3.03);
    t.equal(e.localized, true);
  }
  t.equal(asked.filter((k) => k === 'localize').length, 2, 'the span is asked only when an event starts');
});

t.test('when with the tiny model: the grammar holds every answer to yes or no; localize spans stay in their window', async (t) => {
  const s = spy(model);
  t.teardown(s.restore);
  const items = await collect(watch(clip, { model, every: 4, window: 8, fps: 1, realtime: false, when: 'the screen turns red', localize: true, temperature: 0.8, seed: 3 }));
  const wins = windowsOf(items);
  t.ok(wins.length >= 6);
  for (const x of wins) t.match(x.text, /^(yes|no)$/, `answer "${x.text}"`);
  for (const e of eventsOf(items)) t.ok(e.start >= e.windowStart && e.end <= e.windowEnd && e.start <= e.end, `span [${e.start}, ${e.end}] in [${e.windowStart}, ${e.windowEnd}]`);
  t.equal(s.contexts.length, 1);
});

t.test('answering slower than the stream: windows are skipped, lag stays bounded, the buffer stays small', async (t) => {
  const every = 1, window = 2, fps = 2;
  const w = watchWith(clip, { model, every, window, fps, realtime: true }, { answer: async () => { await sleep(2500); return 'ok'; } });
  const wins = windowsOf(await collect(w));
  const last = wins[wins.length - 1]!;
  t.ok(w.stats.skipped > 0, `${w.stats.skipped} windows skipped`);
  t.equal(wins.length + w.stats.skipped, 24, 'answered + skipped = every window of the 24 s clip');
  // a window waits at most for the answer in progress and its own (2 × 2.5 s) after its end; a
  // queue of every window would fall 1.5 s further behind per window (~36 s by the end)
  for (const x of wins) t.ok(x.lagMs < 12_000, `lag ${x.lagMs} ms`);
  const lags = wins.slice(0, -1).map((x) => x.lagMs);
  t.ok(Math.max(...lags.slice(-3)) < Math.max(...lags.slice(0, 3)) + 3000, `lag does not grow over the clip (${lags.join(', ')} ms)`);
  t.ok(last.windowEnd >= 22, 'the last answer is about the end of the clip');
  t.ok(w.stats.held <= (window + every) * fps + 2, `held ${w.stats.held} frames`);
  for (let i = 1; i < wins.length; i++) t.ok(wins[i]!.skipped >= wins[i - 1]!.skipped, 'skipped only grows');
});

t.test('videos as users have them: a phone clip with a rotation matrix and a variable frame rate clip', async (t) => {
  for (const file of [await media.rotated(90), await media.vfr()]) {
    const wins = windowsOf(await collect(watch(file, { model, every: 1, window: 2, fps: 2, realtime: false, maxTokens: 2 })));
    t.ok(wins.length >= 3, `${file}: ${wins.length} windows`);
    for (const x of wins) for (const v of x.frameTimes) t.ok(v >= x.windowStart - 1e-6 && v < x.windowEnd, `${v} in [${x.windowStart}, ${x.windowEnd})`);
  }
});

t.test('fpsRule picks a file\'s frames at the fps as ask() does: time, step, ffmpeg', async (t) => {
  // the clip has 10 frames a second (frame i at i / 10); 3 a second, hand-computed:
  const rate = 10, fps = 3, until = 8;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  const byRule: Record<string, number[]> = { time: [], step: [] };
  // 'time': the first frame at or after each k / fps; 'step': every round(rate / fps)-th frame (LLaVA-OneVision's reader)
  for (let k = 0; k / fps < until - 1e-9; k++) byRule.time!.push(Math.ceil((k * rate) / fps - 1e-9) / rate);
  for (let i = 0; i / rate < until - 1e-9; i += Math.round(rate / fps)) byRule.step!.push(i / rate);
  // a watch counts time from the first frame it takes (`origin`: that frame's time on the file)
  const timesOf = async (rule?: 'time' | 'step' | 'ffmpeg', origin = 0) => {
    const wins = windowsOf(await collect(watch(clip, { model, every: 2, window: 2, fps, ...(rule ? { fpsRule: rule } : {}), realtime: false, maxTokens: 1 })));
    return [...new Set(wins.flatMap((x) => x.frameTimes.map((v) => round(v + origin))))].filter((v) => v < until).sort((a, b) => a - b);
  };
  t.same(await timesOf(), byRule.time!.map(round), 'default: the time rule');
  t.same(await timesOf('time'), byRule.time!.map(round), 'time');
  t.same(await timesOf('step'), byRule.step!.map(round), 'step: every 3rd frame');
  // 'ffmpeg': the frames ask()'s plan takes with the same rule (their match with the ffmpeg program is test/video/plans.test.ts's);
  // vf_fps keeps the last frame of each output slot, so its first frame is 0.1, not 0
  const { openVideo } = await import('../../lib/index.js');
  const source = await openVideo(clip);
  t.teardown(() => source.close());
  const planned: number[] = [];
  for await (const f of source.frames({ fps, rule: 'ffmpeg' }, { size: [32, 32] })) if (f.t < until) planned.push(round(f.t));
  const ffmpeg = await timesOf('ffmpeg', planned[0]);
  t.same(ffmpeg, planned, 'ffmpeg: the plan\'s frames');
  t.notSame(ffmpeg, byRule.time!.map(round), 'and not the time rule\'s');
  // an M-RoPE pair (the native path, libmtmd's media) reads the same feed
  const m = await tinyModels();
  const mrope = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 });
  t.teardown(() => mrope.dispose());
  const wins = windowsOf(await collect(watch(clip, { model: mrope, every: 2, window: 2, fps, fpsRule: 'step', realtime: false, maxTokens: 1 })));
  t.same(wins.slice(0, 4).flatMap((x) => x.frameTimes.map(round)), byRule.step!.map(round), 'M-RoPE, native path: step');
});

t.test('bad options: a clear error with a stable code before anything is opened', async (t) => {
  const bad: [object, string][] = [
    [{ every: 0 }, 'ERR_INVALID_ARG'],
    [{ every: 10, window: 5 }, 'ERR_INVALID_ARG'],
    [{ frames: 4, fps: 1 }, 'ERR_INVALID_ARG'],
    [{ prompt: 'a', when: 'b' }, 'ERR_INVALID_ARG'],
    [{ localize: true }, 'ERR_INVALID_ARG'],
    [{ when: 'x', localize: true, timeTokens: 'text' }, 'ERR_INVALID_ARG'],
    [{ strategy: 'sideways' }, 'ERR_INVALID_ARG'],
    [{ strategy: 'native', timeTokens: 'text' }, 'ERR_UNSUPPORTED'],
    [{ grammar: 'root ::= "a"' }, 'ERR_INVALID_ARG'],
    [{ strategy: 'concat', fps: 2, window: 60, contextSize: 1024 }, 'ERR_CONTEXT_FULL'],
    [{ timeTokens: 'clock' }, 'ERR_INVALID_ARG'],
    [{ signal: 'stop' }, 'ERR_INVALID_ARG'],
    [{ fpsRule: 'linear' }, 'ERR_INVALID_ARG'],
    // live() samples by time alone
    [{ live: true, fpsRule: 'step' }, 'ERR_UNSUPPORTED'],
  ];
  for (const [o, code] of bad) t.throws(() => watch(clip, { model, ...o } as never), { code }, JSON.stringify(o));
  t.throws(() => watch('' as never, { model }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => watch(clip, null as never), { code: 'ERR_INVALID_ARG' });
  const m = await tinyModels();
  const mrope = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, threads: 1 });
  t.teardown(() => mrope.dispose());
  // an M-RoPE model takes every method, as in ask(); localize's time tokens need a pooled one
  t.doesNotThrow(() => watch(clip, { model: mrope, strategy: 'concat' }), 'pooling on M-RoPE');
  t.doesNotThrow(() => watch(clip, { model: mrope, when: 'x', localize: true }), 'localize: LITA SlowFast');
  t.throws(() => watch(clip, { model: mrope, strategy: 'native', when: 'x', localize: true }), { code: 'ERR_UNSUPPORTED' });
  t.doesNotThrow(() => watch(clip, { model: mrope }), 'auto: the native strategy');
  const text = await loadModel({ model: m.model, threads: 1 });
  t.teardown(() => text.dispose());
  t.throws(() => watch(clip, { model: text }), { code: 'ERR_UNSUPPORTED' });
  await t.rejects(collect(watch(await media.notMedia(), { model, realtime: false })), { code: 'ERR_VIDEO_OPEN' });
  await t.rejects(collect(watch(await media.image('png'), { model, realtime: false })), { code: 'ERR_INVALID_ARG' });
  const w = watch(clip, { model, realtime: false });
  w[Symbol.asyncIterator]();
  t.throws(() => w[Symbol.asyncIterator](), { code: 'ERR_INVALID_ARG' }, 'a watch is iterated once');
  await w.stop();
});

t.test('live frames bypass the embedding cache: encode(…, { cache: false }) encodes and keeps nothing', async (t) => {
  const cached = await tinyModel({ threads: 1 });
  t.teardown(() => cached.dispose());
  const { frame } = await import('../inference/helpers.js');
  const frames = [frame(1), frame(2)];
  const a = await cached.encodeWithStats(frames, { cache: false });
  const b = await cached.encodeWithStats(frames, { cache: false });
  t.same([a.stats.encoded, b.stats.encoded], [2, 2], 'encoded both times');
  t.equal(cached.cache!.size, 0, 'nothing kept');
  t.same(b.grids.map((g) => Array.from(g.data.slice(0, 8))), a.grids.map((g) => Array.from(g.data.slice(0, 8))), 'the same tokens');
  const c = await cached.encodeWithStats(frames);
  const d = await cached.encodeWithStats(frames);
  t.same([c.stats.encoded, d.stats.encoded], [2, 0], 'the default still caches');
  cached.cache!.clear();
  for await (const _ of watch(clip, { model: cached, every: 4, window: 8, realtime: false, maxTokens: 1 })) { /* all windows */ }
  t.equal(cached.cache!.size, 0, 'a watch leaves the model\'s cache empty');
  t.throws(() => cached.encodeWithStats(frames, { cache: 'no' as never }), { code: 'ERR_INVALID_ARG' });
});

t.test('every pooling strategy, with text time stamps, answers its windows on the one context', async (t) => {
  for (const strategy of ['concat', 'pllava', 'slowfast', 'bilinear', 'vcgpt'] as const) {
    const s = spy(model);
    const wins = windowsOf(await collect(watch(clip, { model, strategy, timeTokens: 'text', every: 8, window: 8, fps: 1, realtime: false, maxTokens: 2, temperature: 0 })));
    s.restore();
    t.same(wins.map((x) => x.windowEnd), [8, 16, 24], strategy);
    t.ok(wins.every((x) => x.tokens.prompt > 0 && x.tokens.generated > 0), `${strategy}: prefilled and answered`);
    t.equal(s.contexts.length, 1);
  }
});
