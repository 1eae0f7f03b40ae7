// Decoding beside encoding (issue 26, item 3; lib/pipeline/overlap.ts): under the policy the frames
// are encoded in chunks while the rest decode. The result must be what decoding everything and then
// encoding it gives (the same frames in the same order, the same grids, the same prompt), an abort
// in the middle must leave no native call running, and the two stages draw from the one budget.
import t, { type Test } from 'tap';
import { ask, loadModel, type Model } from '../../lib/index.js';
import { readVideo, type ReadQuery } from '../../lib/pipeline/index.js';
import { OVERLAP_CHUNK } from '../../lib/pipeline/overlap.js';
import type { FrameEncoder } from '../../lib/pipeline/read.js';
import { computeBudget, decodeThreads, reserving, type SystemView } from '../../lib/threads/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';

const m = await tinyModels();
const clip = await media.h264();
const machine = (v: Partial<SystemView>) => async (): Promise<SystemView> => ({ cores: 2, quota: null, load1: 0, busy: 0, ...v });
computeBudget.setProbe(machine({}));
const envBefore = process.env.VIDLM_OVERLAP;
t.teardown(() => { computeBudget.setProbe(); if (envBefore === undefined) delete process.env.VIDLM_OVERLAP; else process.env.VIDLM_OVERLAP = envBefore; });
// cache: false, so that the second read of a pair encodes again instead of reading the first's grids
const llava = await loadModel({ model: m.model, mmproj: m.mmproj, cache: false });
const mrope = await loadModel({ model: m.qwen2vlModel, mmproj: m.qwen2vlMmproj, cache: false });
t.teardown(() => { llava.dispose(); mrope.dispose(); });

/** The model's encoder, recording each call: its frame times, how far decoding was when it came, and calls still running. */
function recorder(model: Model, decoded: () => number, onCall?: (k: number) => void) {
  const calls: { times: number[]; decodedBefore: number }[] = [];
  let running = 0;
  const encoder: FrameEncoder = {
    async encodeWithStats(frames, o) {
      calls.push({ times: frames.map((f) => f.t), decodedBefore: decoded() });
      running++;
      try {
        const p = model.encodeWithStats(frames, o);
        onCall?.(calls.length);
        return await p;
      } finally { running--; }
    },
  };
  return { encoder, calls, running: () => running };
}

let reads = 0;
async function read(model: Model, q: Omit<ReadQuery, 'model' | 'signal'>, overlap: boolean, signal = new AbortController().signal, onCall?: (k: number) => void) {
  process.env.VIDLM_OVERLAP = overlap ? '1' : '0';
  let decoded = 0;
  const rec = recorder(model, () => decoded, onCall);
  const onProgress = (e: { stage: string; fraction: number }) => { if (e.stage === 'decode') decoded = e.fraction; };
  // a cache identity of its own: a read of the same video and options would be a repeat (the media memo), not a decode
  const r = await readVideo(clip, { ...q, model, signal, encoder: rec.encoder, onProgress, sourceId: `overlap-test-${++reads}` });
  return { r, ...rec };
}

function sameRead(t: Test, a: Awaited<ReturnType<typeof read>>['r'], b: Awaited<ReturnType<typeof read>>['r']) {
  t.same(b.video.frames.map((f) => f.t), a.video.frames.map((f) => f.t), 'the same frames at the same times, in order');
  t.ok(b.video.frames.every((f, i) => Buffer.from(f.rgb).equals(Buffer.from(a.video.frames[i]!.rgb))), 'the same pixels');
  const ga = a.encoded.kind === 'grids' ? a.encoded.grids : [], gb = b.encoded.kind === 'grids' ? b.encoded.grids : [];
  t.ok(ga.length > 0);
  t.same(gb.map((g) => [g.t, g.nx, g.ny, g.dim]), ga.map((g) => [g.t, g.nx, g.ny, g.dim]), 'one grid per frame (pair), in order');
  t.ok(gb.every((g, i) => Buffer.from(g.data.buffer, g.data.byteOffset, g.data.byteLength).equals(Buffer.from(ga[i]!.data.buffer, ga[i]!.data.byteOffset, ga[i]!.data.byteLength))),
    'bit-identical embeddings');
  t.same(b.assembled, a.assembled, 'the same sequence plan');
}

const base = { timeTokens: 'none', preamble: false, contextSize: 4096, fit: 'pad' } as const;

t.test('LLaVA pair, pooled: encoded in chunks while decoding goes on, and the same as one encode after it', async (t) => {
  const q = { ...base, strategy: 'concat', frames: 10 } as const;
  const serial = await read(llava, q, false);
  t.same(serial.calls.map((c) => c.times.length), [10], 'without the overlap: one encode of every frame, after decoding');
  t.equal(serial.calls[0]!.decodedBefore, 1);
  const over = await read(llava, q, true);
  t.same(over.calls.map((c) => c.times.length), [OVERLAP_CHUNK, OVERLAP_CHUNK, 10 - 2 * OVERLAP_CHUNK], 'chunks of the queue, the rest after decoding');
  t.ok(over.calls[0]!.decodedBefore < 1, `the first chunk was encoded while decoding went on (at ${over.calls[0]!.decodedBefore} of the frames)`);
  t.same(over.calls.flatMap((c) => c.times), serial.r.video.frames.map((f) => f.t), 'every frame encoded once, in plan order');
  sameRead(t, serial.r, over.r);
  t.equal(over.r.encoded.kind === 'grids' && over.r.encoded.stats?.encoded, 10);
});

t.test('M-RoPE pair, the model\'s own time (frame pairs): chunks keep the pairs, an odd last frame alone', async (t) => {
  const q = { contextSize: 4096, fit: 'pad', preamble: false, strategy: 'auto', frames: 9 } as const;
  const serial = await read(mrope, q, false);
  t.ok(serial.r.plan.modelTime, 'the native path with the model\'s time: pairs encoded here');
  const over = await read(mrope, q, true);
  t.same(over.calls.map((c) => c.times.length), [4, 4, 1]);
  sameRead(t, serial.r, over.r);
  t.equal(over.r.encoded.kind === 'grids' && over.r.encoded.grids.length, 5, '4 pairs and the lone last frame');
});

t.test('ask(): the same prompt and answer with and without the overlap', async (t) => {
  // a model each: the second ask on one model would be a repeat of the first (the media memo)
  const [one, two] = await Promise.all([1, 2].map(() => loadModel({ model: m.model, mmproj: m.mmproj, cache: false })));
  t.teardown(() => { one!.dispose(); two!.dispose(); });
  const q = { strategy: 'pllava', frames: 12, maxTokens: 6, temperature: 0, contextSize: 4096 } as const;
  process.env.VIDLM_OVERLAP = '0';
  const a = await ask(clip, 'What happens?', { ...q, model: one! });
  process.env.VIDLM_OVERLAP = '1';
  const b = await ask(clip, 'What happens?', { ...q, model: two! });
  t.same(b.tokens, a.tokens);
  t.equal(b.text, a.text);
});

t.test('aborted while a chunk encodes: ERR_ABORTED, and no native call left running', async (t) => {
  const ac = new AbortController();
  let calls = 0;
  const p = read(llava, { ...base, strategy: 'concat', frames: 12 }, true, ac.signal, (k) => { calls = k; if (k === 1) ac.abort(); });
  const err = await p.catch((e) => e);
  t.equal(err?.code, 'ERR_ABORTED');
  t.equal(calls, 1, 'aborted while the first chunk encoded');
  const s = computeBudget.stats();
  t.equal(s.leases, 0, 'no compute or decoding lease held: every native call has returned');
  t.equal(s.inUse, 0);
  // the model answers afterwards
  process.env.VIDLM_OVERLAP = '1';
  const r = await ask(clip, 'What happens?', { model: llava, strategy: 'concat', frames: 8, maxTokens: 2, temperature: 0, contextSize: 4096 });
  t.equal(r.tokens.generated, 2);
});

t.test('the decoder keeps a core back for the encoder; off with fixed threads and on one core', async (t) => {
  computeBudget.setProbe(machine({}));
  t.equal(await decodeThreads(), 2, 'alone: the decoder takes both cores');
  t.equal(await reserving(1, () => decodeThreads()), 1, 'beside the encoder: one core each');
  computeBudget.setProbe(machine({ cores: 4 }));
  t.equal(await reserving(1, () => decodeThreads()), 3);
  computeBudget.setProbe(machine({}));
  const fixed = await loadModel({ model: m.model, mmproj: m.mmproj, threads: 1, cache: false });
  t.teardown(() => fixed.dispose());
  const q = { ...base, strategy: 'concat', frames: 10 } as const;
  t.same((await read(fixed, q, true)).calls.map((c) => c.times.length), [10], 'fixed threads: the user asked that many compute threads, no decoder beside them');
  computeBudget.setProbe(machine({ cores: 1 }));
  t.same((await read(llava, q, true)).calls.map((c) => c.times.length), [10], 'one core: the stages would only take turns');
  computeBudget.setProbe(machine({ busy: 1 }));
  t.same((await read(llava, q, true)).calls.map((c) => c.times.length), [10], 'one core of two free (other work on the other): decoding then encoding, the decoder on both cores');
  computeBudget.setProbe(machine({}));
});

t.test('two concurrent asks: one overlaps (the first alone), and compute threads never go above the budget', async (t) => {
  process.env.VIDLM_OVERLAP = '1';
  for (const busy of [0, 1]) {
    computeBudget.setProbe(machine({ busy }));
    computeBudget.resetStats();
    const q = { maxTokens: 4, temperature: 0, contextSize: 4096, frames: 10 } as const;
    await Promise.all([
      ask(clip, 'What happens?', { model: llava, strategy: 'concat', ...q }),
      ask(clip, 'What happens?', { model: mrope, ...q }),
    ]);
    const s = computeBudget.stats();
    t.equal(s.budget, 2 - busy);
    t.ok(s.peakComputeInUse <= 2 - busy, `compute threads at once: ${s.peakComputeInUse}, budget ${2 - busy}`);
    t.ok(s.grants.every((g) => g >= 1 && g <= 2 - busy), `grants ${s.grants.join(',')}`);
    t.equal(s.inUse, 0, 'every lease returned');
  }
  computeBudget.setProbe(machine({}));
});
