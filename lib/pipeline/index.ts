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
import { stat } from 'node:fs/promises';
import type { StrategyName } from '../assembly/types.js';
import { throwIfAborted } from '../errors.js';
import { Chat } from '../inference/chat.js';
import type { Model } from '../model.js';
import type { MediaChunkReport } from '../native.js';
import { openVideo } from '../video/video.js';
import type { VideoFrame, VideoInput } from '../video/types.js';
import { stageReporter, type ProgressListener } from './progress.js';
import { assemble, type AssembleQuery } from './assemble.js';
import { encode } from './encode.js';
import { checkMediaBudget } from './media-budget.js';
import { planVideo, type PlanQuery } from './plan.js';
import { render } from './render.js';
import { sample } from './sample.js';
import { checkPlanLimits, plannedMedia } from '../limits.js';

export interface PipelineQuery extends PlanQuery, AssembleQuery {
  model: Model;
  system?: string;
  /** KV sequences of the chat's context (the chat and its forks). */
  sequences: number;
  encodeBatchSize?: number;
  signal: AbortSignal;
  onProgress?: ProgressListener;
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
  warning?: string;
}

/** The cache identity of a file: path, size and mtime (none for bytes and URLs: keyed by pixels). */
async function sourceIdentity(input: VideoInput): Promise<string | undefined> {
  if (typeof input !== 'string') return undefined;
  try {
    const st = await stat(input);
    return `${input}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

export async function prepare(input: VideoInput, q: PipelineQuery): Promise<Prepared> {
  const { model, signal } = q;
  throwIfAborted(signal);

  const t0 = performance.now();
  // an audio model also opens files without a picture (the sound alone)
  const source = await openVideo(input, { signal, allowAudioOnly: model.info.audio });
  let plan, video;
  try {
    plan = planVideo(source.probe, model.info, q);
    // frames, audio and subtitle cues counted together before any picture is decoded
    const { budget, subtitles } = await checkMediaBudget(source, plan, model.info, (text) => model.handle.countTokens(text), q.contextSize, signal);
    checkPlanLimits(model.limits, plannedMedia(budget, source.probe.video, model.info.imageSize));
    video = await sample(source, plan, model.info, q.contextSize, { signal, onProgress: stageReporter(q.onProgress, 'decode'), subtitles });
  } finally {
    await source.close();
  }
  const decodeMs = performance.now() - t0;

  const encoded = await encode(model, plan, video, {
    source: await sourceIdentity(input), batchSize: q.encodeBatchSize, signal, onProgress: stageReporter(q.onProgress, 'encode'),
  });

  // the chat owns its context: disposing the chat (and its forks) frees it
  const context = await model.createContext({ contextSize: q.contextSize, sequences: q.sequences });
  try {
    const assembled = assemble(encoded, plan, video.duration, q, (tok) => context.tokenize(tok).length === 1, video);
    const rendered = render(model, assembled, { system: q.system });
    const started = await Chat.begin(model, context, rendered, { signal, onProgress: stageReporter(q.onProgress, 'prefill') }, { ownsContext: true });
    return {
      chat: started.chat, prefixTokens: started.evaluated, prefixMs: started.ms, strategy: plan.strategy,
      // pooled: the pooled frame tokens plus what libmtmd made of the audio clips among them
      visual: assembled.kind === 'items' ? assembled.visual + started.mediaTokens : started.mediaTokens,
      frames: video.frames, duration: video.duration, decodeMs,
      encodeMs: encoded.kind === 'grids' ? encoded.ms : 0,
      ...(started.chunks ? { chunks: started.chunks } : {}),
      ...(video.warning ? { warning: video.warning } : {}),
    };
  } catch (e) {
    context.dispose();
    throw e;
  }
}

export { planVideo, type PlanQuery, type VideoPlan } from './plan.js';
export { checkMediaBudget, imageChunkTokens, mediaBudget, mediaBudgetError, type MediaBudget } from './media-budget.js';
export { sample, frameVariant, type SampledVideo } from './sample.js';
export { encode, type Encoded, type FrameEncoder } from './encode.js';
export { assemble, type Assembled, type AssembleQuery, type SampledExtras } from './assemble.js';
export { render, QUESTION, type ChatMessage, type ChatTemplate, type RenderedPrompt } from './render.js';
export { chooseStrategy, defaultFrames, samplingPlan, visualTokens, mtmdDefaults, type StrategyChoice } from './strategy.js';
