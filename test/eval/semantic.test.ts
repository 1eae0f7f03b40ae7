// The semantic eval: a tiny model trained on synthetic clips (python/semantic, built by
// scripts/setup.sh into ~/.cache/vidlm) answers questions about held-out video files through
// vidlm's real pipeline; accuracy floors are the measured numbers (docs/methods.md) less a margin.
// A deliberately wrong layout, injected between vidlm's encoder and its assembly, must fall below
// them: the eval can fail.
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { loadModel, type Context, type FrameGrid, type Model } from '../../lib/index.js';
import { runSemantic, type SemanticRun } from '../../lib/eval/semantic/run.js';
import { QUESTIONS, scoreAnswer, COLOUR_NAMES } from '../../lib/eval/semantic/tasks.js';
import { semanticModel } from '../../lib/fixtures/semantic/build.js';

t.setTimeout(45 * 60_000); // building the model when ~/.cache has none trains it (scripts/setup.sh does this once)
const sm = await semanticModel();
const model = await loadModel({ model: sm.model, mmproj: sm.mmproj, threads: 1 });
t.teardown(() => model.dispose());

// the fast subset: the first scene and flash clips (held-out formats cycle: H.264, VP9, VFR, rotated)
const scenes = sm.clips.filter((c) => c.kind === 'scene').slice(0, 5);
const flashes = sm.clips.filter((c) => c.kind === 'flash').slice(0, 2);

/** Replaces the grids vidlm's encoder returns before they reach the assembly (cached grids are shared: copy). */
function injectGrids(m: Model, transform: (grids: FrameGrid[]) => FrameGrid[]): () => void {
  const original = m.encodeWithStats.bind(m);
  m.encodeWithStats = async (frames, opts) => {
    const r = await original(frames, opts);
    return { ...r, grids: transform(r.grids) };
  };
  return () => { m.encodeWithStats = original; };
}
const reversed = (g: FrameGrid[]) => g.map((x, i) => ({ ...x, data: g[g.length - 1 - i]!.data }));
const shifted = (g: FrameGrid[]) => g.map((x, i) => ({ ...x, t: i + 1 < g.length ? g[i + 1]!.t : x.t + (x.t - g[i - 1]!.t) }));

t.test('the question wording and colours are the training script\'s', async (t) => {
  const py = await readFile(new URL('../../python/semantic/tasks.py', import.meta.url), 'utf8');
  for (const q of Object.values(QUESTIONS)) t.ok(py.includes(`'${q}'`), q);
  t.ok(py.includes(`COLOURS = [${COLOUR_NAMES.map((c) => `'${c}'`).join(', ')}]`));
  t.equal(scoreAnswer(scenes[0]!, 'when', '<t0> <t99>', 'lita') > 0, true, 'the whole clip overlaps the square');
});

t.test('llama.cpp (through vidlm) gives the PyTorch model\'s greedy answer on the same inputs', async (t) => {
  const cases = JSON.parse(await readFile(sm.check, 'utf8')) as Array<{ strategy: string; mode: string; answer: number[]; items: Array<{ text: string } | { rows: number; offset: number }> }>;
  const raw = await readFile(sm.checkEmbeddings);
  const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const dim = 64;
  for (const c of cases) {
    const ctx: Context = await model.createContext({ contextSize: 1024 });
    try {
      await ctx.prefill(c.items.map((it) => ('text' in it ? { text: it.text } : { embeddings: all.subarray(it.offset, it.offset + it.rows * dim), count: it.rows })));
      const r = await ctx.generate({ temperature: 0, maxTokens: 12 });
      t.equal(r.text.trim(), ctx.detokenize(Int32Array.from(c.answer), false).trim(), `${c.strategy} ${c.mode}`);
    } finally {
      ctx.dispose();
    }
  }
});

// floors: measured on these clips (docs/methods.md "Semantic eval") less a margin
const FLOORS: Array<SemanticRun & { colour?: number; count?: number; mIoU?: number }> = [
  { strategy: 'slowfast', frames: 16, timeTokens: 'lita', colour: 0.9, mIoU: 0.3 },
  { strategy: 'concat', frames: 4, timeTokens: 'none', colour: 0.9 },
  { strategy: 'pllava', frames: 8, timeTokens: 'text', colour: 0.9 },
  { strategy: 'bilinear', frames: 8, timeTokens: 'none', colour: 0.9 },
];

for (const f of FLOORS) {
  t.test(`${f.strategy} ${f.frames} frames, time ${f.timeTokens}: at or above the floors`, async (t) => {
    const r = await runSemantic(model, [...scenes, ...flashes], f);
    t.comment(JSON.stringify({ colour: r.colour, count: r.count, mIoU: r.mIoU, answers: r.answers.map((a) => `${a.clip} ${a.task} ${a.answer.trim()}`) }));
    if (f.colour !== undefined) t.ok(r.colour! >= f.colour, `colour ${r.colour} >= ${f.colour}`);
    if (f.mIoU !== undefined) t.ok(r.mIoU! >= f.mIoU, `mIoU ${r.mIoU} >= ${f.mIoU}`);
  });
}

t.test('frames reversed between the encoder and the assembly: colour falls below the floor', async (t) => {
  const restore = injectGrids(model, reversed);
  t.teardown(restore);
  const run = { strategy: 'slowfast', frames: 16, timeTokens: 'lita' } as const;
  const r = await runSemantic(model, scenes, run);
  t.ok(r.colour! < FLOORS[0]!.colour!, `colour ${r.colour} < ${FLOORS[0]!.colour}`);
  t.ok(r.mIoU! < FLOORS[0]!.mIoU!, `mIoU ${r.mIoU} < ${FLOORS[0]!.mIoU}`);
});

t.test('time tokens shifted by one frame: localization falls below the floor', async (t) => {
  const restore = injectGrids(model, shifted);
  t.teardown(restore);
  const r = await runSemantic(model, scenes, { strategy: 'slowfast', frames: 16, timeTokens: 'lita' });
  t.ok(r.mIoU! < FLOORS[0]!.mIoU!, `mIoU ${r.mIoU} < ${FLOORS[0]!.mIoU}`);
});
