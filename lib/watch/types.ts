/** Public value types of watch(): its options and what its iterator yields. */
import type { ReduceOption } from '../reduce/option.js';
import type { StrategyName } from '../assembly/types.js';
import type { GenerateOptions } from '../inference/generate-options.js';
import type { Model } from '../model.js';
import type { TimeTokenMode } from '../time/encode.js';
import type { AudioLength, AudioOption } from '../audio/media.js';
import type { SubtitleSpec } from '../video/subtitles.js';
import type { FitMode, FpsRule, OpenOptions, VideoInput } from '../video/types.js';

export interface WatchOptions extends Omit<GenerateOptions, 'sequence' | 'signal' | 'grammar' | 'jsonSchema'> {
  /** The loaded model with its mmproj (a pooling model: M-RoPE models are not supported). */
  model: Model;
  /** Seconds of stream between answers (default 10). */
  every?: number;
  /** Seconds of video each answer looks at, ending at the answer's time (default 30, at least `every`). */
  window?: number;
  /** What to ask of each window (default 'Describe what changed.'); not with `when`. */
  prompt?: string;
  /** An event to watch for: each window gets a yes/no question; an `event` item comes when the answer turns to yes. */
  when?: string;
  /** With `when`: also ask for the event's span inside the window with LITA time tokens (default false). */
  localize?: boolean;
  /** With `when`: 'no' windows needed after a yes before another event can fire (default 1). */
  cooldown?: number;
  /**
   * Each window's sound into the model (needs model.info.audio): true / 'interleave' puts each
   * `audioWindow` of sound after the frames taken while it played, 'prefix' the window's sound
   * before its frames, on the window's strategy as ask() places it (pooled: audio clips among the
   * frame blocks; native: libmtmd's media). A live stream's sound is read along with its
   * pictures (live()'s `audio`) and placed by timestamp; window items say how much of the window
   * it covered (`audioSeconds`, `audioStalled`). A model with an audio encoder and no vision
   * encoder hears each window's sound alone ('prefix' unless set; files only).
   */
  audio?: AudioOption;
  /** Seconds of sound per interleaved chunk (default from the cost rule: 2, Qwen2.5-Omni's, or longer to keep libmtmd's frame pairs whole; 29.9 with audioLength 'padded'). */
  audioWindow?: number;
  /**
   * How much of each audio clip the model gets: 'real' (default) the embeddings of its real
   * samples, as the Hugging Face processors of Qwen2-Audio / Qwen2.5-Omni count them (~25 a
   * second); 'padded' every embedding libmtmd makes of the clip padded with 30 s of silence (750
   * per started 30 s, llama-mtmd-cli's form).
   */
  audioLength?: AudioLength;
  /**
   * Subtitle cues of each window in its prompt, `[t s] "line"` with t from the window's start:
   * true (the default track), a language tag, a stream index, or a .srt/.vtt/.ass file on the
   * file's timeline. Files only; a missing track is a `warning` item.
   */
  subtitles?: SubtitleSpec;
  /**
   * Token assembly method, as ask() takes it: 'auto' (default) takes the least pooled one whose
   * window fits the context, and 'native' (libmtmd's own media handling) for M-RoPE models and
   * windows with sound; 'native' re-encodes each window's frames inside its prefill, where a pooled
   * method (on M-RoPE models too: their grids get positions of their own) encodes each frame once.
   */
  strategy?: StrategyName | 'auto';
  /** Frames sampled per window (spread evenly: fps = frames / window). */
  frames?: number;
  /** Frames per second sampled from the stream (default 1); give frames or fps, not both. */
  fps?: number;
  /**
   * Which frames a file's `fps` takes, as ask()'s `fpsRule` (lib/video/plans.ts): 'time' (default)
   * the first frame at or after each k / fps, 'step' every round(rate / fps)-th frame, 'ffmpeg' the
   * ffmpeg program's fps filter. A live stream is sampled by time: only 'time'.
   */
  fpsRule?: FpsRule;
  /** How each frame's time (seconds from the window's start) is told to the model. Default 'none'; `localize` uses 'lita'. */
  timeTokens?: TimeTokenMode;
  system?: string;
  /** A file: play at its own pace (default true) or as fast as it is answered (false, for recordings). Ignored for streams. */
  realtime?: boolean;
  /** Treat the source as a live stream (live(): reconnects) or a file (openVideo). Default: URLs other than file: are live. */
  live?: boolean;
  /** Live sources: seconds a read may stall before reconnecting (default 5), and the retry settings of live(). */
  timeout?: number;
  retries?: number;
  backoff?: number;
  maxBackoff?: number;
  /** FFmpeg input options for the source (format, ffmpegOptions…). */
  format?: OpenOptions['format'];
  ffmpegOptions?: OpenOptions['ffmpegOptions'];
  /** KV cache size of the one context the watch uses (default 4096, or the model's trained length if smaller). */
  contextSize?: number;
  fit?: FitMode;
  signal?: AbortSignal;
  /** Called with each piece of an answer as it is generated. */
  onToken?: (piece: string) => void;
  /**
   * Token reduction (lib/reduce): 'auto' or an object form (see VideoQueryOptions.reduce). A frame
   * that repeats the last kept one is never encoded, and a window with nothing new repeats the
   * last answer without asking (its `motion.gated`). Default 'off'.
   */
  reduce?: ReduceOption;
}

/** Times of a window: seconds on the watch's timeline (0 = first frame), the source's own clock, and wall clock. */
export interface WindowTimes {
  /** Watch timeline, seconds from the first frame; monotonic across reconnects. */
  windowStart: number;
  windowEnd: number;
  /** The source's own timestamps of the window's first and last frame (they reset on a reconnect). */
  streamStart: number | null;
  streamEnd: number | null;
  /** Date.now() when the window's first and last frame were decoded. */
  wallStart: number | null;
  wallEnd: number | null;
}

export interface WatchWindow extends WindowTimes {
  type: 'window';
  /** 0, 1, 2… counting answered windows. */
  index: number;
  text: string;
  /** With `when`: the parsed answer. */
  answer?: 'yes' | 'no';
  /** Frames the window holds, and how many of them were encoded for it (the others were encoded for an earlier window). */
  frames: number;
  encoded: number;
  /** The frames' times on the watch timeline. */
  frameTimes: number[];
  /** From the window's end being available to its answer being done. */
  latencyMs: number;
  /** How far behind the stream the answer is: wall time from the window's last frame being decoded to the answer. */
  lagMs: number;
  /** Windows skipped so far (answering fell behind, or no frames came during them). */
  skipped: number;
  tokens: { prompt: number; generated: number };
  tokensPerSecond: number;
  /** With `audio`: the audio clips the window gave the model. */
  audioChunks?: number;
  /** With `audio` on a live stream: seconds of the window its sound covered (0: none came; the clips carry silence where it stalled). */
  audioSeconds?: number;
  /** With `audio` on a live stream: its sound stalled (nothing for `timeout` seconds) during the window while its pictures went on. */
  audioStalled?: true;
  /** With `subtitles`: the cues shown during the window. */
  cues?: number;
  /**
   * With `reduce`: the frames first judged in this window and how many showed something new
   * (the others repeat a kept frame and were not encoded). `gated`: none did, so the question was
   * not asked and the last answer stands (`tokens` 0).
   */
  motion?: { judged: number; changed: number; gated: boolean };
}

export interface WatchEvent extends WindowTimes {
  type: 'event';
  /** The event's span in seconds on the watch timeline: the window's, or the localized one inside it. */
  start: number;
  end: number;
  /** The window (index) whose yes started the event. */
  window: number;
  /** Set when `localize` found a span in the window. */
  localized: boolean;
}

export interface WatchReconnect {
  type: 'reconnect';
  /** live()'s connection number: it counts attempts, so one outage may move it by more than 1. */
  connection: number;
  /** Watch time of the first frame after the reconnect, and the gap before it (seconds). */
  at: number;
  gap: number;
  /** Why the previous connection ended, as live() recorded it. */
  reason?: string;
  /**
   * With `audio`, when the pictures stalled: seconds of the stream's sound that still came while
   * no picture did (kept on the timeline; 0: the whole stream stalled). The reverse of `audioStalled`.
   */
  audioSecondsDuringStall?: number;
}

/** A live source's clock started over (an encoder or camera restart) or jumped ahead: the watch time goes on with the wall clock. */
export interface WatchDiscontinuity {
  type: 'discontinuity';
  /** Watch time of the first frame after it, and the gap before it (seconds). */
  at: number;
  gap: number;
  /** The source's own time of the last frame before it and of the first after it. */
  streamFrom: number;
  streamTo: number;
}

/** Something the watch goes on without (a source with no sound, a subtitle track it could not read); yielded once, before the windows. */
export interface WatchWarning {
  type: 'warning';
  message: string;
}

export type WatchItem = WatchWindow | WatchEvent | WatchReconnect | WatchDiscontinuity | WatchWarning;

export interface WatchStats {
  windows: number;
  skipped: number;
  /** Frames encoded in all, and frames the rolling buffer holds now. */
  encoded: number;
  held: number;
  reconnects: number;
  /** Latest frame's time on the watch timeline. */
  streamTime: number;
  lagMs: number;
  tokensPerSecond: number;
}
