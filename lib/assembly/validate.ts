/** Input checks shared by the strategies: bad shapes fail here, with the strategy's name. */
import { VidlmError } from '../errors.js';
import type { FrameGrid, GridShape } from './types.js';

export function invalid(strategy: string, message: string, details?: Record<string, unknown>): VidlmError {
  return new VidlmError('ERR_INVALID_ARG', `${strategy}: ${message}`, details);
}

export function checkInt(strategy: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(strategy, `${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

export function checkShape(strategy: string, shape: GridShape): GridShape {
  if (shape === null || typeof shape !== 'object') throw invalid(strategy, 'shape must be { frames, nx, ny }');
  checkInt(strategy, 'frames', shape.frames, 1);
  checkInt(strategy, 'nx', shape.nx, 1);
  checkInt(strategy, 'ny', shape.ny, 1);
  return shape;
}

/**
 * Checks every grid and that all share one shape; returns them in time order (a stable sort,
 * so frames with equal timestamps keep their order).
 */
export function checkGrids(strategy: string, grids: readonly FrameGrid[]): FrameGrid[] {
  if (!Array.isArray(grids) || grids.length === 0) throw invalid(strategy, 'grids must be a non-empty array of { t, nx, ny, dim, data }');
  const first = grids[0]!;
  grids.forEach((g, i) => {
    if (g === null || typeof g !== 'object') throw invalid(strategy, `grid ${i} is not an object`);
    if (typeof g.t !== 'number' || !Number.isFinite(g.t)) throw invalid(strategy, `grid ${i}: t must be a finite number of seconds, got ${String(g.t)}`);
    checkInt(strategy, `grid ${i}: nx`, g.nx, 1);
    checkInt(strategy, `grid ${i}: ny`, g.ny, 1);
    checkInt(strategy, `grid ${i}: dim`, g.dim, 1);
    if (!(g.data instanceof Float32Array)) throw invalid(strategy, `grid ${i}: data must be a Float32Array`);
    if (g.data.length !== g.nx * g.ny * g.dim) {
      throw invalid(strategy, `grid ${i}: data has ${g.data.length} floats, nx*ny*dim = ${g.nx * g.ny * g.dim}`, { index: i });
    }
    if (g.nx !== first.nx || g.ny !== first.ny || g.dim !== first.dim) {
      throw invalid(strategy, `grid ${i} is ${g.nx}x${g.ny}x${g.dim}, grid 0 is ${first.nx}x${first.ny}x${first.dim}: all frames must share one shape`, { index: i });
    }
  });
  return grids.map((g, i) => ({ g, i })).sort((a, b) => a.g.t - b.g.t || a.i - b.i).map(({ g }) => g);
}

export function checkVector(strategy: string, name: string, v: unknown, dim: number): Float32Array {
  if (!(v instanceof Float32Array) || v.length !== dim) {
    throw invalid(strategy, `${name} must be a Float32Array of the embedding width ${dim}`);
  }
  return v;
}
