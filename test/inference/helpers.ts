// Shared by the inference tests: the tiny model pair, loaded once per test file, and frames.
import { loadModel, type Model } from '../../lib/index.js';
import { tinyModels } from '../fixtures/tiny-models.js';

export async function tinyModel(opts: { cache?: false; threads?: number } = {}): Promise<Model> {
  const m = await tinyModels();
  return loadModel({ model: m.model, mmproj: m.mmproj, threads: 2, ...opts });
}

/** A deterministic 112×112 RGB frame; different `k` give different pictures. */
export function frame(k: number, t = k, size = 112) {
  const rgb = new Uint8Array(size * size * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * (k + 3) + k * 17) % 251;
  return { t, width: size, height: size, rgb };
}
