/**
 * One question's whole path, from a video to a chat holding it in its KV cache. Each stage is
 * its own file and each hands the next a plain value a test can build by hand:
 *
 *   open      VideoInput             → VideoSource (probe: duration, streams)      lib/video
 *   plan      probe + query          → VideoPlan   (strategy, frames, size; budget checked)  plan.ts
 *   sample    VideoPlan              → SampledVideo (RGB frames with times; audio, cues)  sample.ts
 *   encode    SampledVideo           → Encoded     (grids | media)                 encode.ts
 *   assemble  Encoded                → Assembled   (items + user turn | media)     assemble.ts
 *   render    Assembled + template   → RenderedPrompt (prefix, rest, history)      render.ts
 *   start     RenderedPrompt         → Chat        (prefix evaluated once)         lib/inference/chat.ts
 *
 * The pooled path (the papers' methods) and the mtmd path (libmtmd's own media: M-RoPE and the
 * models it owns) differ only in encode and assemble. Subtitles (lib/subtitles) and audio
 * (lib/audio; on both paths libmtmd encodes the clips) are read by sample and placed by assemble. ask, describe, localize and chat
 * (lib/api/query.ts) call prepare() and then ask the chat.
 */
import type { StrategyName } from '../assembly/types.js';
import { Chat } from '../inference/chat.js';
import type { MediaChunkReport } from '../native.js';
import type { VideoFrame, VideoInput } from '../video/types.js';
import { stageReporter } from './progress.js';
import type { ReduceReport } from '../reduce/pipeline.js';
import { readVideo, type ReadQuery } from './read.js';
import { render } from './render.js';

export interface PipelineQuery extends ReadQuery {
  system?: string;
  /** KV sequences of the chat's context (the chat and its forks). */
  sequences: number;
}

/** A chat holding the video, and what it took to get there. */
export interface Prepared {
  chat: Chat;
  /** Tokens and time of the prefix, evaluated when the chat started. */
  prefixTokens: number;
  prefixMs: number;
  strategy: StrategyName;
  visual: number;
  frames: VideoFrame[];
  duration: number;
  decodeMs: number;
  encodeMs: number;
  /** The mtmd path: what libmtmd evaluated, chunk by chunk (frames, audio clips, text between). */
  chunks?: MediaChunkReport[];
  /** With `reduce`: what it did (lib/reduce/skip.ts). */
  reduced?: ReduceReport;
  warning?: string;
}

export async function prepare(input: VideoInput, q: PipelineQuery): Promise<Prepared> {
  const { model, signal } = q;
  const { plan, video, encoded, assembled, decodeMs, reduced } = await readVideo(input, q);
  // the chat owns its context: disposing the chat (and its forks) frees it
  const context = await model.createContext({ contextSize: q.contextSize, sequences: q.sequences });
  try {
    const rendered = render(model, assembled, { system: q.system });
    const started = await Chat.begin(model, context, rendered, { signal, onProgress: stageReporter(q.onProgress, 'prefill') }, { ownsContext: true });
    return {
      // the native strategy counts positions on both of its layouts (assemble.ts: surplus)
      chat: started.chat, prefixTokens: started.evaluated - (assembled.kind === 'items' ? assembled.surplus ?? 0 : 0), prefixMs: started.ms, strategy: plan.strategy,
      // pooled: the pooled frame tokens plus what libmtmd made of the audio clips among them
      visual: assembled.kind === 'items' ? assembled.visual + started.mediaTokens : started.mediaTokens,
      frames: video.frames, duration: video.duration, decodeMs,
      encodeMs: encoded.kind === 'grids' ? encoded.ms : 0,
      ...(started.chunks ? { chunks: started.chunks } : {}),
      ...(reduced ? { reduced } : {}),
      ...(video.warning ? { warning: video.warning } : {}),
    };
  } catch (e) {
    context.dispose();
    throw e;
  }
}

export { assemblyPlan, contextFull, planVideo, type PlanQuery, type VideoPlan } from './plan.js';
export { checkMediaBudget, imageChunkTokens, mediaBudget, mediaBudgetError, type MediaBudget } from './media-budget.js';
export { sample, frameVariant, type SampledVideo } from './sample.js';
export { encode, type FrameEncoder } from './read.js';
export { assemble, type Encoded, type Assembled, type AssembleQuery, type SampledExtras } from './assemble.js';
export { render, renderTurns, turnMessages, QUESTION, type ChatMessage, type ChatTemplate, type RenderedPrompt, type TurnMessage } from './render.js';
export { readVideo, type ReadQuery, type ReadVideo } from './read.js';
export { mediaTokensByPart, mediaUnits } from './media-chunks.js';
export { chooseStrategy, leastPooled, defaultFrames, mediaTokenBudget, samplingPlan, textReserve, visualTokens, nativeDefaults, type StrategyChoice } from './plan.js';
