/**
 * `F.interpolate(x, size=[oy, ox], mode='bilinear', align_corners=False)` as PyTorch computes
 * it (no antialias): source coordinate (i + 0.5)·in/out − 0.5, negative clamped to 0, the
 * upper neighbour clamped to the last row/column.
 */
export interface LinearTap { i0: number; i1: number; w0: number; w1: number }

export function linearTaps(inSize: number, outSize: number): LinearTap[] {
  const scale = inSize / outSize;
  const taps: LinearTap[] = [];
  for (let i = 0; i < outSize; i++) {
    const src = Math.max(scale * (i + 0.5) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const l1 = Math.min(Math.max(src - i0, 0), 1);
    taps.push({ i0, i1: i0 < inSize - 1 ? i0 + 1 : i0, w0: 1 - l1, w1: l1 });
  }
  return taps;
}

export function bilinearResize(
  src: Float32Array, nx: number, ny: number, dim: number,
  ox: number, oy: number, out: Float32Array, outToken: number,
): void {
  const tx = linearTaps(nx, ox), ty = linearTaps(ny, oy);
  for (let y = 0; y < oy; y++) {
    const { i0: y0, i1: y1, w0: wy0, w1: wy1 } = ty[y]!;
    for (let x = 0; x < ox; x++) {
      const { i0: x0, i1: x1, w0: wx0, w1: wx1 } = tx[x]!;
      const a = (y0 * nx + x0) * dim, b = (y0 * nx + x1) * dim;
      const c = (y1 * nx + x0) * dim, e = (y1 * nx + x1) * dim;
      const base = (outToken + y * ox + x) * dim;
      for (let d = 0; d < dim; d++) {
        out[base + d] = wy0 * (wx0 * src[a + d]! + wx1 * src[b + d]!) + wy1 * (wx0 * src[c + d]! + wx1 * src[e + d]!);
      }
    }
  }
}
