/** Means over space and over time, accumulated in float64 so 100-frame sums stay exact enough. */

/** Mean of the `n` tokens of `src` (each `dim` floats) into `out` at token `outToken`. */
export function spatialMean(src: Float32Array, n: number, dim: number, out: Float32Array, outToken: number): void {
  const acc = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    for (let d = 0; d < dim; d++) acc[d]! += src[o + d]!;
  }
  const base = outToken * dim;
  for (let d = 0; d < dim; d++) out[base + d] = acc[d]! / n;
}

/** Position-wise mean over frames: token p of the result is the mean of token p of every frame. */
export function temporalMean(frames: readonly Float32Array[], nTokens: number, dim: number, out: Float32Array, outToken: number): void {
  const len = nTokens * dim;
  const acc = new Float64Array(len);
  for (const f of frames) for (let k = 0; k < len; k++) acc[k]! += f[k]!;
  const base = outToken * dim;
  for (let k = 0; k < len; k++) out[base + k] = acc[k]! / frames.length;
}
