/**
 * The spatial grid of one image's visual tokens. libmtmd reports LLaVA-style projectors as one
 * row of n tokens, so the square grid is recovered from the encoder's image and patch size.
 */
export function visualGrid(nTokens: number, nx: number, ny: number, imageSize: number | null, patchSize: number | null): { nx: number; ny: number } {
  if (nx * ny === nTokens && ny > 1) return { nx, ny };
  if (imageSize && patchSize) {
    const side = Math.floor(imageSize / patchSize);
    if (side * side === nTokens) return { nx: side, ny: side };
  }
  const root = Math.round(Math.sqrt(nTokens));
  if (root * root === nTokens) return { nx: root, ny: root };
  return { nx: nTokens, ny: 1 };
}
