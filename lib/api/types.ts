/** The options and results of ask, describe, localize and chat (checked in options.ts). */
import type { ReduceOption } from '../reduce/option.js';
import type { StrategyName } from '../assembly/types.js';
import type { AudioLength, AudioOption } from '../audio/media.js';
import type { TurnResult } from '../inference/chat.js';
import type { GenerateOptions } from '../inference/context.js';
import type { Model } from '../model.js';
import type { ProgressListener } from '../pipeline/read.js';
import type { StrategyChoice } from '../pipeline/plan.js';
import type { SubtitleSpec } from '../video/subtitles.js';
import type { TimeEncodingOptions, TimeTokenMode } from '../time/encode.js';
import type { FitMode, FpsRule } from '../video/types.js';

export interface VideoQueryOptions extends Omit<GenerateOptions, 'sequence' | 'signal'> {
  /** The loaded model (with its mmproj). */
  model: Model;
  /** Token assembly method; 'auto' (default) picks one that fits the context. */
  strategy?: StrategyChoice;
  /** Frames to sample; default: the method's own number (LITA 100, PLLaVA 16, Video-LLaVA 8…). */
  frames?: number;
  /** Sample at this rate instead of a frame count. */
  fps?: number;
  /**
   * Which frames an `fps` plan takes (only with `fps`): 'time' (default) the first frame at or
   * after start + k/fps; 'ffmpeg' the frames `ffmpeg -vf fps=F` and llama.cpp's video helper take
   * (the frame nearest each tick, as FFmpeg's fps filter rounds); 'step' every round(avgFps / fps)-th
   * frame from the first, LLaVA-OneVision's reader.
   */
  fpsRule?: FpsRule;
  /** Only this part of the video, [start, end] in seconds. */
  segment?: [number, number];
  /**
   * How the model is told when each frame was taken. Default 'none'; on the native strategy of a
   * Qwen2-VL, Qwen2.5-VL or Qwen3-VL model 'model': the family's own layout (its processor's
   * temporal positions, or Qwen3-VL's `<t seconds>` text), from frame pairs encoded once. 'model'
   * elsewhere is ERR_UNSUPPORTED.
   */
  timeTokens?: TimeTokenMode;
  timeFormat?: TimeEncodingOptions['timeFormat'];
  litaSpelling?: TimeEncodingOptions['litaSpelling'];
  /** State duration and frame times in the prompt (LLaVA-Video's time instruction). */
  preamble?: boolean;
  system?: string;
  /** KV cache size; default 4096 or the model's trained length if smaller. */
  contextSize?: number;
  /** Frames per encoder batch. */
  encodeBatchSize?: number;
  /** chat(): KV sequences of its context, the chat and its forks at once (default 4; ask uses 1). */
  sequences?: number;
  /** How frames are fitted to the encoder's square input. Default 'pad'. */
  fit?: FitMode;
  /** Subtitle cues in the prompt at their times: true (the default track), a language tag, a
   *  stream index or a .srt/.vtt/.ass file. A missing or broken track is a warning. */
  subtitles?: SubtitleSpec;
  /** The sound track into the model (needs model.info.audio): true / 'interleave' puts each
   *  window's audio after its frames, 'prefix' all the audio before the frames. */
  audio?: AudioOption;
  /**
   * Seconds of audio per interleaved chunk. Default from the cost rule: 2 (Qwen2.5-Omni's),
   * lengthened to hold a whole frame pair where libmtmd merges pairs; 29.9 with audioLength
   * 'padded' (each window costs a whole 30-s chunk there).
   */
  audioWindow?: number;
  /**
   * How much of each audio clip the model gets: 'real' (default) the embeddings of its real
   * samples, as the Hugging Face processors of Qwen2-Audio / Qwen2.5-Omni count them (~25 a
   * second); 'padded' every embedding libmtmd makes of the clip padded with 30 s of silence (750
   * per started 30 s, llama-mtmd-cli's form).
   */
  audioLength?: AudioLength;
  /**
   * Token reduction (docs/methods.md, "Token reduction"): 'off' (default); 'auto' skips frames that
   * repeat the last kept one before the encoder, merges tokens that repeat across frames after it
   * (query-agnostic: a chat's follow-ups reuse the prefix) and samples where the codec sees change;
   * { tokens: N } / { ratio: r } also caps the visual tokens (known before any work).
   */
  reduce?: ReduceOption;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Called with each piece of the answer as it is generated. */
  onToken?: (piece: string) => void;
}

export interface AskResult {
  text: string;
  strategy: StrategyName;
  stopReason: TurnResult['stopReason'];
  tokens: { prompt: number; visual: number; generated: number };
  timings: { decodeMs: number; encodeMs: number; prefillMs: number; firstTokenMs: number; generateMs: number };
  /** The frames the model saw; with `reduce`, `until` is the last time a kept frame stands for (the frames after it repeated it). */
  frames: { index: number; t: number; until?: number }[];
  duration: number;
  /**
   * With `reduce`: frames sampled and kept (each a block of the prompt), the distinct pictures among
   * the kept ones (encoded; a picture that came back reuses its embedding), and whether the codec chose their times.
   */
  reduced?: { sampled: number; kept: number; pictures: number; codecPlan: boolean };
  /** Set when sampling was clamped (more frames asked than the video has), a subtitle or audio
   *  track was missing or broken, or a video's picture was skipped by an audio-only model. */
  warning?: string;
}

export interface LocalizeResult extends AskResult {
  /** The first time span in the answer, in seconds; null when the answer names none. */
  start: number | null;
  end: number | null;
}
