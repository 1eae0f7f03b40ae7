// The spatial grid of one image's visual tokens. libmtmd reports LLaVA-style projectors as one
// row of n tokens (nx = n, ny = 1); their tokens are a square patch grid, recovered here so every
// caller gets the grid the pooling methods need.
#pragma once
#include <cmath>

namespace vidlm {

struct Grid { int nx, ny; };

inline Grid VisualGrid(int nTokens, int nx, int ny) {
  if (nx * ny == nTokens && ny > 1) return {nx, ny};
  const int root = static_cast<int>(std::lround(std::sqrt(static_cast<double>(nTokens))));
  if (root * root == nTokens) return {root, root};
  return {nTokens, 1};
}

}  // namespace vidlm
