/**
 * The stages before a context: open → plan → budget → sample → encode → assemble, for one video.
 * ask() (prepare in index.ts) and the server call it; each caller adds its own inputs here, not
 * copies of the stages: the server its media budget per part, its limits before decoding, the
 * bytes' identity and an encoder that shares running encodes between requests.
 */
import { stat } from 'node:fs/promises';
import { throwIfAborted } from '../errors.js';
import type { Model } from '../model.js';
import { openVideo } from '../video/video.js';
import type { VideoInput, VideoProbe } from '../video/types.js';
import { stageReporter, type ProgressListener } from './progress.js';
import { assemble, type Assembled, type AssembleQuery } from './assemble.js';
import { encode, type Encoded, type FrameEncoder } from './encode.js';
import { checkMediaBudget } from './media-budget.js';
import { checkPlanLimits, plannedMedia } from '../limits.js';
import { planVideo, type PlanQuery, type VideoPlan } from './plan.js';
import { sample, type SampledVideo } from './sample.js';

export interface ReadQuery extends PlanQuery, AssembleQuery {
  model: Model;
  encodeBatchSize?: number;
  signal: AbortSignal;
  onProgress?: ProgressListener;
  /** The cache identity of the bytes (default: a file's path, size and mtime; none for bytes: keyed by pixels). */
  sourceId?: string;
  /** FFmpeg's open options for the input (the server's format and protocol allow-lists). */
  ffmpegOptions?: Record<string, string | number>;
  /** The caller's limits, checked on the probe and the plan before anything is decoded. */
  check?: (probe: VideoProbe, plan: VideoPlan) => void;
  /** The encoder to use (default: the model's, through its cache). */
  encoder?: FrameEncoder;
  /** For time tokens: is `tok` one token of the model's vocabulary (default: the model's tokenizer)? */
  hasToken?: (tok: string) => boolean;
}

/** One video read and assembled: what render takes, and what it took. */
export interface ReadVideo {
  plan: VideoPlan;
  video: SampledVideo;
  encoded: Encoded;
  assembled: Assembled;
  isImage: boolean;
  decodeMs: number;
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

export async function readVideo(input: VideoInput, q: ReadQuery): Promise<ReadVideo> {
  const { model, signal } = q;
  throwIfAborted(signal);
  const t0 = performance.now();
  // an audio model also opens files without a picture (the sound alone)
  const source = await openVideo(input, { signal, allowAudioOnly: model.info.audio, ...(q.ffmpegOptions ? { ffmpegOptions: q.ffmpegOptions } : {}) });
  let plan: VideoPlan, video: SampledVideo;
  try {
    plan = planVideo(source.probe, model.info, q);
    q.check?.(source.probe, plan);
    // frames, audio and subtitle cues counted together before any picture is decoded
    const { budget, subtitles } = await checkMediaBudget(source, plan, model.info, (text) => model.handle.countTokens(text), q.contextSize, signal);
    checkPlanLimits(model.limits, plannedMedia(budget, source.probe.video, model.info.imageSize));
    video = await sample(source, plan, model.info, q.contextSize, { signal, onProgress: stageReporter(q.onProgress, 'decode'), subtitles });
  } finally {
    await source.close();
  }
  const decodeMs = performance.now() - t0;
  const encoded = await encode(q.encoder ?? model, plan, video, {
    source: q.sourceId ?? await sourceIdentity(input), batchSize: q.encodeBatchSize, signal, onProgress: stageReporter(q.onProgress, 'encode'),
  });
  const hasToken = q.hasToken ?? ((tok: string) => model.handle.countTokens(tok) === 1);
  const assembled = assemble(encoded, plan, video.duration, q, hasToken, video);
  return { plan, video, encoded, assembled, isImage: source.probe.isImage, decodeMs };
}
