/**
 * PyTorch `AdaptiveAvgPool2d` over the (ny, nx) plane: output cell i covers input
 * [floor(i·in/out), ceil((i+1)·in/out)), so uneven sizes give overlapping bins.
 */
export function adaptiveBins(inSize: number, outSize: number): Array<[number, number]> {
  const bins: Array<[number, number]> = [];
  for (let i = 0; i < outSize; i++) {
    bins.push([Math.floor((i * inSize) / outSize), Math.floor(((i + 1) * inSize + outSize - 1) / outSize)]);
  }
  return bins;
}

export function adaptiveAvgPool2d(
  src: Float32Array, nx: number, ny: number, dim: number,
  ox: number, oy: number, out: Float32Array, outToken: number,
): void {
  const bx = adaptiveBins(nx, ox), by = adaptiveBins(ny, oy);
  const acc = new Float64Array(dim);
  for (let y = 0; y < oy; y++) {
    const [y0, y1] = by[y]!;
    for (let x = 0; x < ox; x++) {
      const [x0, x1] = bx[x]!;
      acc.fill(0);
      for (let yy = y0; yy < y1; yy++) {
        for (let xx = x0; xx < x1; xx++) {
          const o = (yy * nx + xx) * dim;
          for (let d = 0; d < dim; d++) acc[d]! += src[o + d]!;
        }
      }
      const area = (y1 - y0) * (x1 - x0);
      const base = (outToken + y * ox + x) * dim;
      for (let d = 0; d < dim; d++) out[base + d] = acc[d]! / area;
    }
  }
}
