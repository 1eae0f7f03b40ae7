/**
 * `F.avg_pool2d(x, kernel_size=k)` (stride = k, no padding, floor mode): output ⌊ny/k⌋ × ⌊nx/k⌋,
 * the remainder rows/columns dropped, as in LITA and LLaVA-Video.
 */
export function avgPool2d(src: Float32Array, nx: number, ny: number, dim: number, k: number, out: Float32Array, outToken: number): void {
  const ox = Math.floor(nx / k), oy = Math.floor(ny / k);
  const acc = new Float64Array(dim);
  const area = k * k;
  for (let y = 0; y < oy; y++) {
    for (let x = 0; x < ox; x++) {
      acc.fill(0);
      for (let dy = 0; dy < k; dy++) {
        for (let dx = 0; dx < k; dx++) {
          const o = ((y * k + dy) * nx + (x * k + dx)) * dim;
          for (let d = 0; d < dim; d++) acc[d]! += src[o + d]!;
        }
      }
      const base = (outToken + y * ox + x) * dim;
      for (let d = 0; d < dim; d++) out[base + d] = acc[d]! / area;
    }
  }
}
