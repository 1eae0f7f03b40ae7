import t from 'tap';
import { f16ArrayToF32, f16BitsToF32, f32ArrayToF16, f32ToF16Bits } from '../../lib/gguf/index.js';

// Expected bit patterns worked out by hand from the binary16 layout (1 sign, 5 exponent, 10 mantissa bits).
const cases: Array<[string, number, number]> = [
  ['one', 1, 0x3c00],
  ['minus two', -2, 0xc000],
  ['half', 0.5, 0x3800],
  ['zero', 0, 0x0000],
  ['negative zero', -0, 0x8000],
  ['largest finite', 65504, 0x7bff],
  ['just below the overflow tie', 65519, 0x7bff],
  ['tie between 65504 and 65536 rounds to even: Infinity', 65520, 0x7c00],
  ['overflow', 1e6, 0x7c00],
  ['negative overflow', -1e6, 0xfc00],
  ['Infinity', Infinity, 0x7c00],
  ['-Infinity', -Infinity, 0xfc00],
  ['one third (round down)', 1 / 3, 0x3555],
  ['0.1 (round up)', 0.1, 0x2e66],
  ['1 + 2^-11 is a tie: stays on even 1.0', 1 + 2 ** -11, 0x3c00],
  ['1 + 3*2^-11 is a tie: goes up to even mantissa 2', 1 + 3 * 2 ** -11, 0x3c02],
  ['1 + 2^-11 + 2^-20 is above the tie: rounds up', 1 + 2 ** -11 + 2 ** -20, 0x3c01],
  ['smallest normal 2^-14', 2 ** -14, 0x0400],
  ['largest subnormal', 1023 * 2 ** -24, 0x03ff],
  ['smallest subnormal 2^-24', 2 ** -24, 0x0001],
  ['2^-25 is a tie between 0 and 2^-24: goes to even 0', 2 ** -25, 0x0000],
  ['1.5 * 2^-25 rounds up to 2^-24', 1.5 * 2 ** -25, 0x0001],
  ['3 * 2^-25 is a tie between 1 and 2 units: goes to even 2', 3 * 2 ** -25, 0x0002],
  ['negative subnormal', -(2 ** -24), 0x8001],
  ['subnormal that carries into the smallest normal', (1023.5 + 2 ** -10) * 2 ** -24, 0x0400],
  ['below half the smallest subnormal', 2 ** -26, 0x0000],
  ['f32 subnormal', 1e-40, 0x0000],
];

t.test('f32ToF16Bits matches hand-computed values', async (t) => {
  for (const [name, value, bits] of cases) {
    t.equal(f32ToF16Bits(value).toString(16), bits.toString(16), name);
  }
});

t.test('NaN stays NaN', async (t) => {
  const bits = f32ToF16Bits(NaN);
  t.equal(bits & 0x7c00, 0x7c00, 'exponent all ones');
  t.not(bits & 0x3ff, 0, 'non-zero mantissa');
  t.ok(Number.isNaN(f16BitsToF32(bits)));
});

t.test('f16BitsToF32 decodes exactly', async (t) => {
  t.equal(f16BitsToF32(0x3c00), 1);
  t.equal(f16BitsToF32(0xc000), -2);
  t.equal(f16BitsToF32(0x7bff), 65504);
  t.equal(f16BitsToF32(0x0001), 2 ** -24);
  t.equal(f16BitsToF32(0x3555), 0.333251953125);
  t.equal(f16BitsToF32(0x7c00), Infinity);
  t.equal(f16BitsToF32(0xfc00), -Infinity);
  t.ok(Object.is(f16BitsToF32(0x8000), -0));
});

t.test('every finite binary16 value survives f16 -> f32 -> f16', async (t) => {
  let bad = 0;
  for (let b = 0; b < 0x10000; b++) {
    if ((b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0) continue; // NaNs
    if (f32ToF16Bits(f16BitsToF32(b)) !== b) bad++;
  }
  t.equal(bad, 0);
});

t.test('rounding is to the nearest representable value', async (t) => {
  // Between each pair of neighbours, the midpoint must round to the even one and anything off it to the nearer.
  let bad = 0;
  for (let b = 0x0000; b < 0x7bff; b += 7) {
    const lo = f16BitsToF32(b);
    const hi = f16BitsToF32(b + 1);
    const mid = (lo + hi) / 2;
    const even = b % 2 === 0 ? b : b + 1;
    if (f32ToF16Bits(mid) !== even) bad++;
    if (f32ToF16Bits(lo + (hi - lo) * 0.25) !== b) bad++;
    if (f32ToF16Bits(lo + (hi - lo) * 0.75) !== b + 1) bad++;
  }
  t.equal(bad, 0);
});

t.test('array helpers', async (t) => {
  const bits = f32ArrayToF16([1, -2, 0.5]);
  t.same(Array.from(bits), [0x3c00, 0xc000, 0x3800]);
  t.same(Array.from(f16ArrayToF32(bits)), [1, -2, 0.5]);
});
