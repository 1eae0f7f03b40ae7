import t from 'tap';
import {
  assemble, countTokens, defaults, planTokenCount, strategies, strategyNames,
  type FrameGrid, type PooledStrategyName, type StrategyName,
} from '../../lib/assembly/index.js';
import { chooseStrategy, defaultFrames, queryStrategies } from '../../lib/pipeline/plan.js';
import { rng } from './helpers.js';

// The token-count formulas of the reference's cheat sheet (section 10), written out here.
const formulas: Record<PooledStrategyName, (T: number, nx: number, ny: number) => number> = {
  concat: (T, nx, ny) => T * nx * ny,
  slowfast: (T, nx, ny) => T + 4 * Math.floor(nx / 2) * Math.floor(ny / 2),
  pllava: (T, nx, ny) => T * Math.floor(nx / 2) * Math.floor(ny / 2),
  bilinear: (T, nx, ny) => T * Math.ceil(nx / 2) * Math.ceil(ny / 2) + 1, // with a newline embedding
  vcgpt: (T, nx, ny) => Math.max(T, 100) + nx * ny,
};

const shapes: Array<[number, number]> = [[8, 8], [16, 16], [24, 24], [27, 27], [8, 6], [27, 13], [6, 8]];

t.test('registry lists every pooled strategy; native is a query strategy, not an assembler', async (t) => {
  t.same([...strategyNames].sort(), ['bilinear', 'concat', 'pllava', 'slowfast', 'vcgpt']);
  for (const name of strategyNames) t.equal(strategies[name].name, name);
  t.equal(defaults.concat.frames, 8);
  t.notOk('native' in strategies, 'no registry entry that throws on every call');
  t.notOk('native' in defaults);
  t.same([...queryStrategies].sort(), ['bilinear', 'concat', 'native', 'pllava', 'slowfast', 'vcgpt'], 'the strategy option still takes native');
  t.equal(defaultFrames('native'), 16, 'one default frame count for the model\'s own path');
  for (const name of strategyNames) t.equal(defaultFrames(name), defaults[name].frames, `${name}: the paper's frames`);
  const info = { imageGrid: { nx: 4, ny: 4 }, tokensPerImage: 16, mrope: false, architecture: 'llama' } as never;
  t.equal(chooseStrategy('native', info, 100), 'native');
  t.throws(() => chooseStrategy('bogus' as never, info, 100), { code: 'ERR_INVALID_ARG' });
});

t.test('countTokens matches the formulas and the assembled plans', async (t) => {
  const rand = rng(11);
  for (const name of Object.keys(formulas) as Array<keyof typeof formulas>) {
    for (const [nx, ny] of shapes) {
      for (const T of [1, 8, 100]) {
        const want = formulas[name](T, nx, ny);
        const opts = name === 'bilinear' ? { newline: true } : {};
        t.equal(countTokens(name, { frames: T, nx, ny }, opts as never), want, `${name} ${T}x${nx}x${ny}`);
        if (T === 8) {
          const grids: FrameGrid[] = Array.from({ length: T }, (_, i) => ({ t: i, nx, ny, dim: 1, data: Float32Array.from({ length: nx * ny }, rand) }));
          const aopts = name === 'bilinear' ? { newline: Float32Array.of(1) } : {};
          t.equal(planTokenCount(assemble(name, grids, aopts as never)), want, `${name} plan ${T}x${nx}x${ny}`);
        }
      }
    }
  }
  // The paper totals of the reference's summary table.
  t.equal(countTokens('slowfast', { frames: 100, nx: 16, ny: 16 }), 356);
  t.equal(countTokens('pllava', { frames: 16, nx: 24, ny: 24 }), 2304);
  t.equal(countTokens('vcgpt', { frames: 100, nx: 16, ny: 16 }), 356);
  t.equal(countTokens('bilinear', { frames: 32, nx: 27, ny: 27 }, { newline: true }), 6273);
  t.equal(countTokens('concat', { frames: 8, nx: 16, ny: 16 }), 2048);
});

t.test('native and unknown strategies', async (t) => {
  const g: FrameGrid = { t: 0, nx: 2, ny: 2, dim: 1, data: new Float32Array(4) };
  // untyped callers (JavaScript) get a clear answer, not "unknown strategy"
  t.throws(() => assemble('native' as never, [g]), { code: 'ERR_UNSUPPORTED' });
  t.throws(() => countTokens('native' as never, { frames: 1, nx: 2, ny: 2 }), { code: 'ERR_UNSUPPORTED' });
  t.throws(() => assemble('bogus' as PooledStrategyName, [g]), { code: 'ERR_INVALID_ARG' });
  t.throws(() => assemble('toString' as PooledStrategyName, [g]), { code: 'ERR_INVALID_ARG' });
});

t.test('input validation', async (t) => {
  const g = (over: Partial<FrameGrid> = {}): FrameGrid => ({ t: 0, nx: 2, ny: 2, dim: 2, data: new Float32Array(8), ...over });
  for (const name of ['concat', 'slowfast', 'pllava', 'bilinear', 'vcgpt'] as const) {
    t.throws(() => assemble(name, []), { code: 'ERR_INVALID_ARG' }, `${name}: no frames`);
    t.throws(() => assemble(name, null as never), { code: 'ERR_INVALID_ARG' }, `${name}: not an array`);
    t.throws(() => assemble(name, [g({ data: new Float32Array(7) })]), { code: 'ERR_INVALID_ARG' }, `${name}: wrong length`);
    t.throws(() => assemble(name, [g({ data: [0, 0, 0, 0, 0, 0, 0, 0] as never })]), { code: 'ERR_INVALID_ARG' }, `${name}: not Float32Array`);
    t.throws(() => assemble(name, [g(), g({ nx: 4, ny: 1 })]), { code: 'ERR_INVALID_ARG' }, `${name}: mixed shapes`);
    t.throws(() => assemble(name, [g({ t: Number.NaN })]), { code: 'ERR_INVALID_ARG' }, `${name}: NaN time`);
    t.throws(() => assemble(name, [g({ nx: 0, data: new Float32Array(0) })]), { code: 'ERR_INVALID_ARG' }, `${name}: empty grid`);
    t.throws(() => assemble(name, [g({ dim: 1.5 })]), { code: 'ERR_INVALID_ARG' }, `${name}: fractional dim`);
    t.throws(() => countTokens(name, { frames: 0, nx: 2, ny: 2 }), { code: 'ERR_INVALID_ARG' }, `${name}: zero frames`);
    t.throws(() => countTokens(name, { frames: 2, nx: 2.5, ny: 2 }), { code: 'ERR_INVALID_ARG' }, `${name}: fractional nx`);
    t.throws(() => assemble(name, [g()], { timeTokens: 'lita' }), { code: 'ERR_INVALID_ARG' }, `${name}: lita without duration`);
    t.throws(() => assemble(name, [g()], { timeTokens: 'clock' as never }), { code: 'ERR_INVALID_ARG' }, `${name}: bad time mode`);
  }
});

t.test('time encodings in plans', async (t) => {
  // Three frames at uneven times of a 60 s clip; each a 1x1 grid of dim 1.
  const grids: FrameGrid[] = [0, 30.5, 59.9].map((tt) => ({ t: tt, nx: 1, ny: 1, dim: 1, data: Float32Array.of(tt) }));
  const texts = (p: ReturnType<typeof assemble>) => p.filter((it) => 'text' in it);
  // lita: round(99 * t / 60): 0 -> 0; 99*30.5/60 = 50.325 -> 50; 99*59.9/60 = 98.835 -> 99.
  t.same(texts(assemble('pllava', grids, { timeTokens: 'lita', duration: 60 })), [{ text: '<t0>' }, { text: '<t50>' }, { text: '<t99>' }]);
  t.same(texts(assemble('pllava', grids, { timeTokens: 'lita', duration: 60, litaSpelling: 'paper' })), [{ text: '<1>' }, { text: '<51>' }, { text: '<100>' }]);
  // A vocabulary that has <t0>..<t99> makes them special tokens, one piece each.
  const vocab = new Set(Array.from({ length: 100 }, (_, i) => `<t${i}>`));
  const special = assemble('concat', grids, { timeTokens: 'lita', duration: 60, hasToken: (s) => vocab.has(s) });
  t.same(special.map((it) => ('text' in it ? it : 'E')), [{ text: '<t0>', special: true }, 'E', { text: ' ' }, { text: '<t50>', special: true }, 'E', { text: ' ' }, { text: '<t99>', special: true }, 'E']);
  // text with a custom template and a function.
  t.same(texts(assemble('pllava', grids, { timeTokens: 'text', timeFormat: 'At {clock}: ' })), [{ text: 'At 0:00: ' }, { text: 'At 0:30.5: ' }, { text: 'At 0:59.9: ' }]);
  t.same(texts(assemble('pllava', grids, { timeTokens: 'text', timeFormat: (s) => `<${s}>` })), [{ text: '<0>' }, { text: '<30.5>' }, { text: '<59.9>' }]);
  t.throws(() => assemble('pllava', grids, { timeTokens: 'text', timeFormat: 'no placeholder' }), { code: 'ERR_INVALID_ARG' });
  // none: no text at all; adjacent frames merge into one embedding block.
  const none = assemble('pllava', grids);
  t.equal(none.length, 1);
  t.same(Array.from((none[0] as { embeddings: Float32Array }).embeddings), [0, 30.5, 59.9].map(Math.fround));
});
