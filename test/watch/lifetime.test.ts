// watch() under the calls users make at once: two watches on one model, an abort while the
// model answers, stop() mid-answer, the model disposed mid-watch, and a short soak (one context,
// a bounded buffer). Every wait is bounded.
import t from 'tap';
import { ask, isVidlmError, type Model, type WatchItem, type WatchWindow } from '../../lib/index.js';
import { watch } from '../../lib/watch/watch.js';
import { tinyModel } from '../inference/helpers.js';
import { colourClip, expectedTimes, sleep } from './helpers.js';

const model = await tinyModel({ cache: false, threads: 1 });
t.teardown(() => model.dispose());
const clip = await colourClip(24, [[6, 10], [16, 20]]);

function spyContexts(m: Model) {
  const contexts: Awaited<ReturnType<Model['createContext']>>[] = [];
  const create = m.createContext.bind(m);
  m.createContext = async (o) => { const c = await create(o); contexts.push(c); return c; };
  return { contexts, restore: () => { m.createContext = create; } };
}

/** CPU time this process spends over `ms` of idle waiting (native work left running would show). */
async function idleCpuMs(ms: number): Promise<number> {
  const a = process.cpuUsage();
  await sleep(ms);
  const d = process.cpuUsage(a);
  return (d.user + d.system) / 1000;
}

const windows = (items: WatchItem[]) => items.filter((x): x is WatchWindow => x.type === 'window');

t.test('two watches on one model at once: each gets its own windows, each frame encoded once per watch', async (t) => {
  const s = spyContexts(model);
  t.teardown(s.restore);
  const run = async (every: number) => {
    const out: WatchItem[] = [];
    for await (const x of watch(clip, { model, every, window: 4, fps: 1, realtime: false, maxTokens: 3 })) out.push(x);
    return windows(out);
  };
  const [a, b] = await Promise.all([run(2), run(3)]);
  t.same(a.map((x) => x.windowEnd), [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]);
  t.same(b.map((x) => x.windowEnd), [3, 6, 9, 12, 15, 18, 21, 24]);
  for (const x of [...a, ...b]) t.same(x.frameTimes.map((v) => Math.round(v * 1000) / 1000), expectedTimes(x.windowEnd, 4, 1));
  t.equal(a.reduce((n, x) => n + x.encoded, 0), 24);
  t.equal(b.reduce((n, x) => n + x.encoded, 0), 24);
  t.equal(s.contexts.length, 2, 'one context per watch');
  t.ok(s.contexts.every((c) => c.disposed));
});

t.test('abort while the model answers: ERR_ABORTED, the context freed, no native work left running, the model answers after', async (t) => {
  const s = spyContexts(model);
  t.teardown(s.restore);
  const ac = new AbortController();
  let pieces = 0;
  const w = watch(clip, { model, every: 2, window: 4, fps: 1, realtime: false, maxTokens: 2000, temperature: 1, signal: ac.signal,
    onToken: () => { if (++pieces === 3) ac.abort(); } });
  const seen: WatchItem[] = [];
  const err = await (async () => { for await (const x of w) seen.push(x); })().catch((e: unknown) => e);
  t.ok(isVidlmError(err, 'ERR_ABORTED'), `rejects with ERR_ABORTED (${String(err)})`);
  t.equal(seen.length, 0, 'the first window never completed');
  t.equal(s.contexts.length, 1);
  t.ok(s.contexts[0]!.disposed, 'the context is freed');
  const cpu = await idleCpuMs(1000);
  t.ok(cpu < 150, `${cpu.toFixed(0)} ms of CPU in the second after the abort`);
  const r = await ask(clip, 'What colour?', { model, frames: 2, maxTokens: 2 });
  t.ok(r.text.length > 0, 'the model still answers');
});

t.test('an already aborted signal: ERR_ABORTED, nothing created', async (t) => {
  const s = spyContexts(model);
  t.teardown(s.restore);
  await t.rejects((async () => { for await (const _ of watch(clip, { model, signal: AbortSignal.abort() })) { /* none */ } })(), { code: 'ERR_ABORTED' });
  t.equal(s.contexts.length, 0);
});

t.test('stop() mid-answer ends the iteration cleanly and frees the context; stop() from the loop body too', async (t) => {
  const s = spyContexts(model);
  t.teardown(s.restore);
  let pieces = 0;
  let stopped: Promise<void> | null = null;
  const w = watch(clip, { model, every: 2, window: 4, fps: 1, realtime: false, maxTokens: 2000, temperature: 1,
    onToken: () => { if (++pieces === 3) stopped = w.stop(); } });
  const seen: WatchItem[] = [];
  for await (const x of w) seen.push(x);
  await stopped;
  t.equal(seen.length, 0);
  t.ok(s.contexts[0]!.disposed, 'context freed');
  const w2 = watch(clip, { model, every: 2, window: 4, fps: 1, realtime: false, maxTokens: 2 });
  let n = 0;
  for await (const x of w2) { if (x.type === 'window' && ++n === 2) await w2.stop(); }
  t.equal(n, 2, 'stop() awaited inside the loop body does not hang, and the loop ends');
  t.ok(s.contexts[1]!.disposed);
});

t.test('the model disposed mid-watch: the watch ends with ERR_DISPOSED, the process lives on', async (t) => {
  const own = await tinyModel({ cache: false, threads: 1 });
  const s = spyContexts(own);
  let n = 0;
  const err = await (async () => {
    for await (const x of watch(clip, { model: own, every: 2, window: 4, fps: 1, realtime: false, maxTokens: 3 })) {
      if (x.type === 'window' && ++n === 2) own.dispose();
    }
  })().catch((e: unknown) => e);
  t.ok(isVidlmError(err, 'ERR_DISPOSED'), `ERR_DISPOSED (${String(err)})`);
  t.equal(n, 2);
  t.ok(s.contexts[0]!.disposed, 'context freed');
});

t.test('short soak: 300 windows on one context, the buffer bounded, RSS flat over the last half', { timeout: 600_000 }, async (t) => {
  const long = await colourClip(300, [[100, 110]], 2);
  const s = spyContexts(model);
  t.teardown(s.restore);
  const w = watch(long, { model, every: 1, window: 3, fps: 1, realtime: false, maxTokens: 2, temperature: 0 });
  const rss = (): number => { globalThis.gc?.(); return process.memoryUsage().rss; };
  let n = 0, half = 0, maxHeld = 0;
  for await (const x of w) {
    if (x.type !== 'window') continue;
    n++;
    maxHeld = Math.max(maxHeld, w.stats.held);
    if (n === 150) half = rss();
  }
  const end = rss();
  t.equal(n, 300);
  t.equal(s.contexts.length, 1, 'the context count stays at one');
  t.ok(maxHeld <= 5, `the buffer held at most ${maxHeld} frames`);
  t.equal(w.stats.encoded, 300, 'each of the 300 frames encoded once');
  const growth = (end - half) / half;
  t.comment(`RSS after window 150: ${(half / 2 ** 20).toFixed(1)} MiB, after 300: ${(end / 2 ** 20).toFixed(1)} MiB (${(growth * 100).toFixed(2)}%)`);
  t.ok(growth < 0.15, `RSS grew ${(growth * 100).toFixed(2)}% over the last 150 windows`);
});
