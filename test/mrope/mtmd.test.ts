// The plain native layout (each image or merged frame pair a one-step grid at the next free
// position) must give exactly the positions libmtmd's own helper gives the same prompt.
import t from 'tap';
import { mropePositions, type MropeItem } from '../../lib/mrope/index.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { probe, type ProbeResult } from './probe.js';

const asItems = (r: ProbeResult): MropeItem[] => r.chunks.map((c) => (c.type === 'text' ? { kind: 'text', n: c.n } : { kind: 'grid', t: [0], h: c.ny, w: c.nx }));

t.test('plain native layout equals libmtmd (tiny Qwen2-VL, Qwen2.5-VL and Qwen3-VL pairs)', async (t) => {
  const m = await tinyModels();
  const pairs: [string, string, string][] = [
    ['qwen2vl', m.qwen2vlModel, m.qwen2vlMmproj], ['qwen25vl', m.qwen2vlModel, m.qwen25vlMmproj], ['qwen3vl', m.qwen3vlModel, m.qwen3vlMmproj],
  ];
  const cases: string[][] = [
    ['text:Look: ', 'image:112x56', 'text: and now ', 'frame:56x112', 'frame:56x112', 'frame:56x112', 'text: What?'],
    ['image:168x56', 'image:56x168', 'text:x'],
    ['text:frames ', 'frame:112x112', 'frame:112x112', 'frame:112x112', 'frame:112x112', 'text:.'],
  ];
  // the first two cases have non-square grids, so a swapped h/w would show
  for (const [name, model, mmproj] of pairs) for (const items of cases) {
    const ref = probe(model, mmproj, items);
    t.ok(ref.mrope, 'libmtmd decodes the pair with M-RoPE');
    for (const c of ref.chunks) if (c.type === 'image') t.equal(c.n, c.nx * c.ny, 'a merged pair is one grid step');
    const ours = mropePositions(asItems(ref));
    t.same(Array.from(ours.positions), sectionMajor(ref), `${name}: ${items.join(' ')}`);
    t.equal(ours.next, ref.next, 'next free position');
    t.same(ours.spans.map((s) => s.pos), ref.chunks.map((c) => c.pos0), 'each chunk starts where libmtmd starts it');
  }
});

/** libmtmd's per-chunk section-major arrays joined into one layout's section-major array. */
function sectionMajor(r: ProbeResult): number[] {
  const out: number[] = [];
  for (let s = 0; s < 4; s++) for (const c of r.chunks) out.push(...c.positions.slice(s * c.n, (s + 1) * c.n));
  return out;
}
