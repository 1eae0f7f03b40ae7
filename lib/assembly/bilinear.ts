/**
 * LLaVA-OneVision video tokens (LLaVA-NeXT `get_2dPool`, HF `LlavaOnevision`): each frame's grid
 * bilinearly resized to ⌈ny/2⌉ × ⌈nx/2⌉ (align_corners=False; 27 → 14), frames flattened in
 * order, then ONE image_newline at the very end (`one_token`): 32 × 196 + 1 = 6273.
 * `pool: 'average'` with `newlinePosition: 'grid'` gives LLaVA-Video instead (avg_pool2d(2),
 * 27 → 13, a newline after every row: 13 × 14 per frame).
 */
import { avgPool2d } from './ops/avgpool.js';
import { bilinearResize } from './ops/bilinear.js';
import { buildPlan, type PlanOptions, type Segment } from './plan.js';
import type { Strategy } from './strategy.js';
import type { FrameGrid, GridShape, SequencePlan } from './types.js';
import { checkGrids, checkShape, checkVector, invalid } from './validate.js';

export type NewlinePosition = 'one_token' | 'grid' | 'frame' | 'no_token';
export type SpatialPool = 'bilinear' | 'average';

export interface BilinearOptions {
  /** The model's image_newline embedding; without one no newline tokens are added. */
  newline?: Float32Array | null;
  /** `bilinear` (OneVision, ⌈G/2⌉) or `average` (LLaVA-Video, 2×2 avg_pool2d, ⌊G/2⌋). */
  pool?: SpatialPool;
  /** LLaVA-NeXT `mm_newline_position`; OneVision: `one_token`. */
  newlinePosition?: NewlinePosition;
}

/** For counting, only whether there is a newline matters. */
export type BilinearCountOptions = Omit<BilinearOptions, 'newline'> & { newline?: Float32Array | boolean | null };

export const bilinearDefaults = { frames: 32, pool: 'bilinear', newlinePosition: 'one_token' } as const;
/** The same strategy with LLaVA-Video-7B's settings. */
export const llavaVideoPreset = { frames: 64, pool: 'average', newlinePosition: 'grid' } as const;

const POSITIONS: readonly NewlinePosition[] = ['one_token', 'grid', 'frame', 'no_token'];

function resolve(shape: { nx: number; ny: number }, opts: BilinearCountOptions) {
  const pool = opts.pool ?? bilinearDefaults.pool;
  if (pool !== 'bilinear' && pool !== 'average') throw invalid('bilinear', `pool must be "bilinear" or "average", got ${JSON.stringify(pool)}`);
  const position = opts.newlinePosition ?? bilinearDefaults.newlinePosition;
  if (!POSITIONS.includes(position)) throw invalid('bilinear', `newlinePosition must be one of ${POSITIONS.join(', ')}, got ${JSON.stringify(position)}`);
  const ox = pool === 'bilinear' ? Math.ceil(shape.nx / 2) : Math.floor(shape.nx / 2);
  const oy = pool === 'bilinear' ? Math.ceil(shape.ny / 2) : Math.floor(shape.ny / 2);
  if (ox === 0 || oy === 0) throw invalid('bilinear', `a ${shape.nx}x${shape.ny} grid is smaller than the 2x2 pooling window`);
  return { pool, position, ox, oy };
}

/** one_token: T·ox·oy + 1; grid: T·oy·(ox+1); frame: T·(ox·oy+1); without a newline: T·ox·oy. */
export function countBilinear(shape: GridShape, opts: BilinearCountOptions = {}): number {
  checkShape('bilinear', shape);
  const { position, ox, oy } = resolve(shape, opts);
  const nl = opts.newline ? 1 : 0;
  const T = shape.frames;
  if (position === 'one_token') return T * ox * oy + nl;
  if (position === 'grid') return T * oy * (ox + nl);
  if (position === 'frame') return T * (ox * oy + nl);
  return T * ox * oy;
}

export function assembleBilinear(grids: readonly FrameGrid[], opts: BilinearOptions & PlanOptions = {}): SequencePlan {
  const frames = checkGrids('bilinear', grids);
  const { nx, ny, dim } = frames[0]!;
  const { pool, position, ox, oy } = resolve({ nx, ny }, opts);
  const newline = opts.newline == null ? null : checkVector('bilinear', 'newline', opts.newline, dim);
  const rowNl = newline && position === 'grid' ? 1 : 0;
  const frameNl = newline && position === 'frame' ? 1 : 0;
  const perFrame = oy * (ox + rowNl) + frameNl;
  const out = new Float32Array(frames.length * perFrame * dim);
  const pooled = new Float32Array(ox * oy * dim);
  const segments: Segment[] = frames.map((g, i) => {
    if (pool === 'bilinear') bilinearResize(g.data, nx, ny, dim, ox, oy, pooled, 0);
    else avgPool2d(g.data, nx, ny, dim, 2, pooled, 0);
    const base = i * perFrame * dim;
    const rowLen = ox * dim;
    for (let y = 0; y < oy; y++) {
      const at = base + y * (ox + rowNl) * dim;
      out.set(pooled.subarray(y * rowLen, (y + 1) * rowLen), at);
      if (rowNl) out.set(newline!, at + rowLen);
    }
    if (frameNl) out.set(newline!, base + oy * ox * dim);
    // a row's newline is one more column of the frame's grid (OneVision's image_newline); a frame's is a token of its own
    return { embeddings: out.subarray(base, base + perFrame * dim), count: perFrame, grids: [{ nx: ox + rowNl, ny: oy }, ...(frameNl ? [{ nx: 1, ny: 1 }] : [])], t: g.t };
  });
  if (newline && position === 'one_token') segments.push({ embeddings: newline, count: 1 });
  return buildPlan(segments, dim, opts);
}

export const bilinear: Strategy<BilinearOptions, BilinearCountOptions> = {
  name: 'bilinear',
  source: 'LLaVA-OneVision (LLaVA-VL/LLaVA-NeXT); LLaVA-Video with llavaVideoPreset',
  defaults: bilinearDefaults,
  assemble: assembleBilinear,
  countTokens: countBilinear,
};
