/** What readVideo (read.ts) takes and gives; apart so the memo (media-memo.ts) can name them too. */
import type { Model } from '../model.js';
import type { VideoProbe } from '../video/types.js';
import type { ReduceReport } from '../reduce/pipeline.js';
import type { ProgressListener } from './progress.js';
import type { Assembled, AssembleQuery } from './assemble.js';
import type { Encoded, FrameEncoder } from './encode.js';
import type { PlanQuery, VideoPlan } from './plan.js';
import type { SampledVideo } from './sample.js';

export interface ReadQuery extends PlanQuery, AssembleQuery {
  model: Model;
  encodeBatchSize?: number;
  signal: AbortSignal;
  onProgress?: ProgressListener;
  /** The cache identity of the bytes (default: a file's path, size and mtime; none for bytes: keyed by pixels). */
  sourceId?: string;
  /** FFmpeg's open options for the input (the server's format and protocol allow-lists). */
  /** Counts the tokens of subtitle text (default: the model's tokenizer); the server bounds the text's length first. */
  countText?: (text: string) => number;
  ffmpegOptions?: Record<string, string | number>;
  /** The caller's limits, checked on the probe and the plan before anything is decoded. */
  check?: (probe: VideoProbe, plan: VideoPlan) => void;
  /** The encoder to use (default: the model's, through its cache). */
  encoder?: FrameEncoder;
  /** For time tokens: is `tok` one token of the model's vocabulary (default: the model's tokenizer)? */
  hasToken?: (tok: string) => boolean;
  /** A repeat on the native path leaves its frames without pixels until `pixels()` (the server: only when no slot holds the prefix). */
  lazyPixels?: boolean;
}

/** One video read and assembled: what render takes, and what it took. */
export interface ReadVideo {
  plan: VideoPlan;
  video: SampledVideo;
  encoded: Encoded;
  assembled: Assembled;
  probe: VideoProbe;
  isImage: boolean;
  decodeMs: number;
  /** Frames the decoder decoded for this read (0 for a repeat whose embeddings or prefix are held). */
  decoded: number;
  /** With `reduce`: frames sampled and kept, and the span each kept frame stands for. */
  reduced?: ReduceReport;
  /** A native repeat read with `lazyPixels`: decodes the frames' pixels (once) when the caller needs them. */
  pixels?: () => Promise<void>;
}
