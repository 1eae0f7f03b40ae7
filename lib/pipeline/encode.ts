/**
 * Stage 2, encode: the two interchangeable encoders.
 * - pooled: vidlm runs the mmproj on the frames (through the embedding cache) and gets one grid
 *   of visual tokens per frame, for a paper's pooling method to arrange.
 * - mtmd: nothing happens here; the frames go on as media that libmtmd encodes inside the
 *   prefill with the model's own positions (M-RoPE, temporal merges).
 */
import type { FrameGrid } from '../assembly/types.js';
import type { EncodableFrame, EncodeOptions, EncodeStats } from '../inference/encode.js';
import type { SampledVideo } from './sample.js';
import type { VideoPlan } from './plan.js';

export type Encoded =
  | { kind: 'grids'; grids: FrameGrid[]; ms: number; stats?: EncodeStats }
  | { kind: 'native'; frames: readonly EncodableFrame[] };

/** What the encode stage needs of a model: its encoder through the cache. */
export interface FrameEncoder {
  encodeWithStats(frames: readonly EncodableFrame[], opts: EncodeOptions): Promise<{ grids: FrameGrid[]; stats: EncodeStats }>;
}

export async function encode(encoder: FrameEncoder, plan: Pick<VideoPlan, 'path' | 'modelTime'>, video: SampledVideo,
  opts: { source?: string; batchSize?: number; signal?: AbortSignal; onProgress?: (fraction: number) => void; missing?: EncodeOptions['missing'] }): Promise<Encoded> {
  // the model's own time (model-time.ts): frame pairs encoded once here, one grid per pair
  if (plan.path === 'native' && !plan.modelTime) return { kind: 'native', frames: video.frames };
  const { grids, stats } = await encoder.encodeWithStats(video.frames, {
    source: opts.source, variant: video.variant, batchSize: opts.batchSize, signal: opts.signal, onProgress: opts.onProgress,
    ...(plan.modelTime ? { pairs: true } : {}),
    ...(opts.missing ? { missing: opts.missing } : {}),
  });
  return { kind: 'grids', grids, ms: stats.ms, stats };
}
