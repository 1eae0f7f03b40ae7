/** What a loaded model is, as its public `info`: read from the native side and the GGUF headers at load. */
export interface ModelInfo {
  architecture: string;
  description: string;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nCtxTrain: number;
  nVocab: number;
  nParams: number;
  hasChatTemplate: boolean;
  vision: boolean;
  audio: boolean;
  /** Projector type of the mmproj (`mlp`, `idefics3`, `qwen2vl_merger`, …); null without an mmproj. */
  projectorType: string | null;
  /** Encoder input side in pixels; null without a vision encoder. */
  imageSize: number | null;
  patchSize: number | null;
  /** Visual-token grid of one image at the encoder's size. */
  imageGrid: { nx: number; ny: number } | null;
  tokensPerImage: number | null;
  /** Width of the projected visual tokens; equals nEmbd for a matching pair. */
  projectionDim: number | null;
  /** M-RoPE models (Qwen2-VL family) need libmtmd's own positions: the `native` strategy. */
  mrope: boolean;
  nonCausalImageAttention: boolean;
  audioSampleRate: number | null;
  /** Projector type of the audio encoder (`qwen2a`, `qwen2.5o`, …; a mixed mmproj names one per tower); null without one. */
  audioProjectorType: string | null;
}

/** Frames per temporal merge group of a projector (libmtmd's clip_model_n_temporal_merge): 2 for the Qwen-VL family. */
export function temporalMerge(projectorType: string | null): number {
  return projectorType !== null && /^qwen(2vl|2\.5vl|3vl)_merger$|^qwen2\.5o$|^qwen3vl/.test(projectorType) ? 2 : 1;
}
