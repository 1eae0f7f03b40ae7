/**
 * Model pairs for the benchmarks, written by the project's GGUF writer (random weights) into
 * .cache/models-bench/<name>-<hash>/ and reused while their parameters are unchanged.
 *
 * Encoders: `clip224` (the small tower: 224 px, patch 14, width 256, 6 blocks) and `siglip384`
 * (a SigLIP-384-sized tower: 384 px, patch 16 → 24×24 = 576 patches, width 768, 12 blocks,
 * 12 heads, MLP 3072 — SigLIP-B/16-384's shape, written with the CLIP block layout).
 * Families: `llava` (the mlp projector: one frame per encoder graph in libmtmd) and `internvl`
 * (pixel shuffle 2×2: a quarter of the tokens, several frames per graph).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { validateGguf } from '../lib/gguf/index.js';
import { buildTinyLlm } from '../lib/fixtures/tiny-llm.js';
import { buildTinyInternvlMmproj, buildTinyMmproj } from '../lib/fixtures/tiny-mmproj.js';
import { DEFAULT_VOCAB_PATH, GENERATOR_VERSION } from '../lib/fixtures/tiny-models.js';
import { TINY_LLAVA, type TinyLlavaParams } from '../lib/fixtures/tiny-params.js';

export type EncoderSize = 'clip224' | 'siglip384';
export type Family = 'llava' | 'internvl';

const LLM = { nEmbd: 256, nHead: 4, nHeadKv: 4, nFf: 512, projectionDim: 256, mismatchProjectionDim: 128, contextLength: 32768 };
/** An LLM of Qwen2.5-0.5B's shape (LLaVA-OneVision-0.5B's language model): 24 layers, width 896, 14 heads over 2 KV heads, MLP 4864; ~0.4 B parameters with the Llama 2 vocabulary. */
export const LLM_05B = { nEmbd: 896, nLayer: 24, nHead: 14, nHeadKv: 2, nFf: 4864, projectionDim: 896, mismatchProjectionDim: 128, contextLength: 32768 };
export const ENCODERS: Record<EncoderSize, Partial<TinyLlavaParams> & { label: string }> = {
  clip224: { label: 'CLIP 224 px/14, width 256 × 6 blocks', imageSize: 224, patchSize: 14, visionWidth: 256, visionLayers: 6, visionHeads: 4, visionFf: 1024 },
  siglip384: { label: 'SigLIP-384-sized 384 px/16, width 768 × 12 blocks', imageSize: 384, patchSize: 16, visionWidth: 768, visionLayers: 12, visionHeads: 12, visionFf: 3072 },
};

export interface BenchPair { model: string; mmproj: string; imageSize: number; tokensPerImage: number; label: string }

export async function benchPair(root: string, size: EncoderSize, family: Family, llm: Partial<TinyLlavaParams> & { name?: string } = {}): Promise<BenchPair> {
  const { label, ...enc } = ENCODERS[size];
  const { name, ...llmShape } = llm;
  const p: TinyLlavaParams = { ...TINY_LLAVA, ...LLM, ...llmShape, ...enc };
  const key = createHash('sha256').update(JSON.stringify({ GENERATOR_VERSION, p, family })).digest('hex').slice(0, 12);
  const dir = join(root, '.cache', 'models-bench', `${name ? `${name}-` : ''}${size}-${family}-${key}`);
  const model = join(dir, 'llm.gguf');
  const mmproj = join(dir, 'mmproj.gguf');
  if (!existsSync(mmproj)) {
    mkdirSync(dir, { recursive: true });
    await buildTinyLlm(p, await validateGguf(DEFAULT_VOCAB_PATH)).write(model);
    const w = family === 'llava' ? buildTinyMmproj(p, p.projectionDim) : buildTinyInternvlMmproj(p, p.projectionDim);
    await w.write(`${mmproj}.tmp`);
    renameSync(`${mmproj}.tmp`, mmproj); // written last: its presence means the pair is complete
  }
  const side = p.imageSize / p.patchSize;
  return { model, mmproj, imageSize: p.imageSize, tokensPerImage: family === 'llava' ? side * side : (side / 2) ** 2, label: `${name ? `${name} LLM, ` : ''}${family} ${label}` };
}
