/**
 * One media part of a request, from URL to visual tokens: resolve (media.ts), open and check the
 * limits on the probe (duration, frames, context budget) before decoding, decode the method's
 * frames, encode them through the model's shared embedding cache, and assemble the method's plan.
 * Its sound and subtitle cues come from extras.ts.
 */
import { createHash } from 'node:crypto';
import type { Agent } from 'undici';
import { assemble } from '../assembly/index.js';
import { openVideo } from '../video/index.js';
import { VidlmError } from '../errors.js';
import type { Model } from '../model.js';
import type { SequencePlan, StrategyName } from '../assembly/types.js';
import type { VideoFrame } from '../video/types.js';
import { HttpError, badRequest } from './errors.js';
import { resolveMedia } from './media.js';
import type { CheckedServerOptions } from './options.js';
import type { VideoOptions } from './request.js';
import { defaultFrames, samplingPlan, visualTokens } from './sampling.js';
import type { Metrics } from './metrics.js';
import { readExtras, soundPlan, type PartExtras } from './extras.js';

export interface PreparedMedia {
  strategy: StrategyName;
  isImage: boolean;
  duration: number;
  frames: VideoFrame[];
  /** The method's plan (text and embedding items); null for the native path (frames go to libmtmd). */
  plan: SequencePlan | null;
  /** Identity of the plan's embeddings (source, frame times, method): the slot's KV key. */
  key: string;
  visual: number;
  encoded: number;
  cached: number;
  /** Its sound and subtitles (items: what the native path evaluates, frames and audio clips in order). */
  extras: PartExtras;
}

export interface MediaContext {
  model: Model;
  options: CheckedServerOptions;
  agent: Agent;
  metrics: Metrics;
  signal: AbortSignal;
  /** Tokens of the slot left for this media part's visual tokens. */
  budget: number;
  hasToken: (tok: string) => boolean;
  /** Encodes running now, by source and frames (shared by the server's requests). */
  encoding: Map<string, Promise<unknown>>;
}

/** `audioPart`: an input_audio part, whose sound alone is used. */
export async function prepareMedia(url: string, param: string, strategy: StrategyName, v: VideoOptions, c: MediaContext, audioPart = false): Promise<PreparedMedia> {
  const { model, options: o, signal } = c;
  const info = model.info;
  const media = await resolveMedia(url, o, c.agent, signal, param);
  const t0 = performance.now();
  // an audio model also opens files without a picture
  const source = await openVideo(media.input, { signal, allowAudioOnly: info.audio, ffmpegOptions: media.ffmpegOptions });
  let frames: VideoFrame[] = [];
  let duration: number, isImage: boolean;
  let extras: PartExtras;
  try {
    isImage = source.probe.isImage;
    duration = source.probe.duration;
    if (!info.vision && isImage) throw new HttpError(400, 'unsupported_value', 'the model has no vision encoder: it takes sound, not pictures', { param });
    // the sound alone: an input_audio part, an audio file, or a model that hears but does not see
    const soundOnly = audioPart || !source.probe.video || !info.vision;
    if (audioPart && !source.probe.audio) throw badRequest('invalid_media', 'the input_audio part holds no audio stream', param);
    if (!isImage && duration > o.maxDuration) {
      throw new HttpError(400, 'media_too_long', `the video lasts ${duration.toFixed(1)} s; this server takes at most ${o.maxDuration} s (--max-duration)`, { param });
    }
    if (!isImage && v.segment && duration > 0 && v.segment[0] >= duration) {
      throw new HttpError(400, 'invalid_value', `segment [${v.segment.join(', ')}] starts at or after the end of the video (${duration} s)`, { param: 'vidlm.segment' });
    }
    const fps = isImage ? undefined : v.fps;
    const count = soundOnly ? 0 : isImage ? 1 : v.frames ?? defaultFrames(strategy);
    // the least frames the plan gives, known before decoding: by count, or fps × the segment's length
    const span = Math.min(v.segment?.[1] ?? duration, duration) - (v.segment?.[0] ?? 0);
    const expected = soundOnly ? 0 : fps === undefined ? count : Math.max(1, Math.floor(span * fps));
    if (expected > o.maxFrames) {
      throw new HttpError(400, 'too_many_frames', `the request samples ${expected} frames; this server takes at most ${o.maxFrames}`, { param });
    }
    if (!soundOnly && visualTokens(strategy, expected, info) > c.budget) {
      throw new HttpError(400, 'context_length_exceeded', `${strategy} with ${expected} frames needs ${visualTokens(strategy, expected, info)} visual tokens; ${c.budget} are free in a slot: ask for fewer frames or a pooling strategy`, { param });
    }
    // sound goes only through libmtmd's own media path (strategy 'native'), checked against the budget before decoding
    const sound = strategy === 'native' && !isImage ? soundPlan(v, soundOnly, info, source, expected, c.budget, v.audio !== undefined ? 'vidlm.audio' : param) : null;
    if (!soundOnly) {
      const plan = isImage ? { uniform: 1 } : samplingPlan(strategy, count, fps, v.segment);
      const size = isImage || !info.imageSize ? undefined : ([info.imageSize, info.imageSize] as [number, number]);
      for await (const f of source.frames(plan, { size, fit: 'pad', signal })) {
        frames.push(f);
        if (frames.length > o.maxFrames) throw new HttpError(400, 'too_many_frames', `the request samples more than ${o.maxFrames} frames`, { param });
      }
    }
    extras = await readExtras(source, frames, sound, v, info, { subtitles: !isImage && !audioPart, signal });
  } finally {
    await source.close();
  }
  c.metrics.stage.observe({ stage: 'decode' }, (performance.now() - t0) / 1000);
  if (extras.items.length === 0) throw new VidlmError('ERR_VIDEO_EMPTY', 'no frames could be sampled from the video');
  const key = createHash('sha1').update(JSON.stringify([media.identity, strategy, v.timeTokens, frames.map((f) => f.t)])).digest('hex');
  if (strategy === 'native') {
    return { strategy, isImage, duration, frames, plan: null, key, visual: frames.length > 0 ? visualTokens('native', frames.length, info) : 0, encoded: frames.length, cached: 0, extras };
  }
  // the same frames asked for at once by several requests are encoded by the first; the others
  // wait for it and then read the cache
  const encodeKey = `${media.identity}|${frames.map((f) => `${f.t}:${f.width}x${f.height}`).join(',')}`;
  const running = c.encoding.get(encodeKey);
  if (running) await Promise.race([running.catch(() => {}), new Promise((_, reject) => { signal.throwIfAborted(); signal.addEventListener('abort', () => reject(signal.reason), { once: true }); })]);
  const encoding = model.encodeWithStats(frames, { source: media.identity, signal });
  if (!running) {
    c.encoding.set(encodeKey, encoding);
    void encoding.catch(() => {}).finally(() => c.encoding.delete(encodeKey));
  }
  const { grids, stats } = await encoding;
  c.metrics.stage.observe({ stage: 'encode' }, stats.ms / 1000);
  c.metrics.cacheHits.inc(stats.cached);
  c.metrics.cacheMisses.inc(stats.encoded);
  const planItems = assemble(strategy, grids, { timeTokens: v.timeTokens, duration: duration > 0 ? duration : undefined, hasToken: c.hasToken } as never);
  const visual = planItems.reduce((n, it) => n + ('count' in it ? it.count : 0), 0);
  frames = frames.map((f) => ({ ...f, rgb: new Uint8Array(0) })); // the pixels are not needed past encoding
  // the pooled path keeps only the transcript of its extras: the frames' pixels can go
  return { strategy, isImage, duration, frames, plan: planItems, key, visual, encoded: stats.encoded, cached: stats.cached, extras: { ...extras, items: [] } };
}
