import t from 'tap';
import { mropePositions, mropeTokenPosition, type MropeItem } from '../../lib/mrope/index.js';

const rows = (items: MropeItem[], start = 0) => {
  const l = mropePositions(items, start);
  return { rows: Array.from({ length: l.nTokens }, (_, i) => mropeTokenPosition(l, i)), layout: l };
};

t.test('text, a 2×3 image grid, text: hand-computed', async (t) => {
  const { rows: r, layout } = rows([{ kind: 'text', n: 2 }, { kind: 'grid', t: [0], h: 2, w: 3 }, { kind: 'text', n: 2 }], 5);
  t.same(r, [
    [5, 5, 5, 5], [6, 6, 6, 6],
    // grid at 7: (7+0, 7+row, 7+col, 0)
    [7, 7, 7, 0], [7, 7, 8, 0], [7, 7, 9, 0],
    [7, 8, 7, 0], [7, 8, 8, 0], [7, 8, 9, 0],
    // next = 7 + max(h, w) = 10
    [10, 10, 10, 10], [11, 11, 11, 11],
  ]);
  t.equal(layout.next, 12);
  t.same(layout.spans, [{ token: 0, n: 2, pos: 5 }, { token: 2, n: 6, pos: 7 }, { token: 8, n: 2, pos: 10 }]);
  // section-major: the first n values are the temporal row
  t.same(Array.from(layout.positions.subarray(0, 10)), [5, 6, 7, 7, 7, 7, 7, 7, 10, 11]);
});

t.test('a multi-step grid: t-major token order, next = start + max(t, h-1, w-1) + 1', async (t) => {
  const { rows: r, layout } = rows([{ kind: 'grid', t: [0, 4], h: 1, w: 2 }]);
  t.same(r, [[0, 0, 0, 0], [0, 0, 1, 0], [4, 0, 0, 0], [4, 0, 1, 0]]);
  t.equal(layout.next, 5);
  // a tall grid: the rows decide the next position
  t.equal(mropePositions([{ kind: 'grid', t: [0, 1], h: 6, w: 2 }], 3).next, 9);
});

t.test('malformed items are ERR_INVALID_ARG', async (t) => {
  for (const bad of [
    [{ kind: 'grid', t: [], h: 1, w: 1 }], [{ kind: 'grid', t: [1, 0], h: 1, w: 1 }], [{ kind: 'grid', t: [0.5], h: 1, w: 1 }],
    [{ kind: 'grid', t: [0], h: 0, w: 1 }], [{ kind: 'text', n: -1 }], [{ kind: 'audio', n: 1 }],
  ]) t.throws(() => mropePositions(bad as MropeItem[]), { code: 'ERR_INVALID_ARG' });
  t.throws(() => mropePositions([], -1), { code: 'ERR_INVALID_ARG' });
});
