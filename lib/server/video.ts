/**
 * One media part of a request through the pipeline (lib/pipeline/read.ts), as ask() reads a
 * video: the server adds only what is its own — the URL resolved (media.ts), its limits checked
 * on the probe before decoding (duration, frames), the bytes' identity, the media budget shared
 * by the request's parts, and an encoder that lets requests asking for the same frames at once
 * encode them once.
 */
import { createHash } from 'node:crypto';
import type { RemoteClient } from './media.js';
import type { StrategyName } from '../assembly/types.js';
import { VidlmError } from '../errors.js';
import type { Model } from '../model.js';
import { readVideo, type FrameEncoder, type ReadVideo } from '../pipeline/index.js';
import { HttpError, badRequest } from './errors.js';
import { resolveMedia } from './media.js';
import { textCap } from './text.js';
import type { CheckedServerOptions } from './options.js';
import type { VideoOptions } from './request.js';
import type { Metrics } from './metrics.js';

export interface PreparedMedia {
  read: ReadVideo;
  strategy: StrategyName;
  duration: number;
  frames: { index: number; t: number }[];
  /** Identity of what the part puts in the KV (source, frame times, method, sound): the slot's key. */
  key: string;
  /** Pooled: the method's visual tokens; the native path's are libmtmd's, known after the prefill. */
  visual: number;
  encoded: number;
  cached: number;
  audioChunks: number;
  cues: number;
  /** http(s) media: downloaded, or its kept bytes reused after 304 Not Modified. */
  remote?: 'downloaded' | 'not_modified';
  warnings: string[];
}

export interface MediaContext {
  model: Model;
  options: CheckedServerOptions;
  remote: RemoteClient;
  metrics: Metrics;
  signal: AbortSignal;
  /** A slot's tokens, and the part of them left for this media part. */
  contextSize: number;
  budget: number;
  hasToken: (tok: string) => boolean;
  /** Encodes running now, by source and frames (shared by the server's requests). */
  encoding: Map<string, Promise<unknown>>;
}

/** The model's encoder, with the same frames asked for at once by several requests encoded by the first (the others then read the cache). */
function sharedEncoder(model: Model, identity: string, encoding: Map<string, Promise<unknown>>, signal: AbortSignal): FrameEncoder {
  return {
    async encodeWithStats(frames, opts) {
      const key = `${identity}|${frames.map((f) => `${f.t}:${f.width}x${f.height}`).join(',')}`;
      const running = encoding.get(key);
      if (running) await Promise.race([running.catch(() => {}), new Promise((_, reject) => { signal.throwIfAborted(); signal.addEventListener('abort', () => reject(signal.reason), { once: true }); })]);
      const encode = model.encodeWithStats(frames, opts);
      if (!running) {
        encoding.set(key, encode);
        void encode.catch(() => {}).finally(() => encoding.delete(key));
      }
      return encode;
    },
  };
}

/** The request's name of an option the pipeline names (`vidlm.segment` for `segment`); a budget error names the part. */
const REQUEST_OPTIONS = new Set(['strategy', 'frames', 'fps', 'fpsRule', 'segment', 'timeTokens', 'preamble', 'audio', 'audioWindow', 'audioLength', 'subtitles']);
function asRequestError(e: unknown, param: string): unknown {
  if (!(e instanceof VidlmError)) return e;
  const option = e.details?.option;
  if (typeof option === 'string' && REQUEST_OPTIONS.has(option)) Object.assign(e, { details: { ...e.details, option: `vidlm.${option}` } });
  else if (option === undefined && (e.code === 'ERR_CONTEXT_FULL' || e.code === 'ERR_UNSUPPORTED')) Object.assign(e, { details: { ...e.details, option: param } });
  return e;
}

/** `audioPart`: an input_audio part, whose sound alone is used; `strategy`: the request's choice ('native' when it carries sound). */
export async function prepareMedia(url: string, param: string, strategy: StrategyName | 'auto', v: VideoOptions, c: MediaContext, audioPart = false): Promise<PreparedMedia> {
  const { model, options: o, signal } = c;
  const info = model.info;
  const media = await resolveMedia(url, o, c.remote, signal, param);
  const read = await readVideo(media.input, {
    model, strategy, frames: v.frames, fps: v.fps, fpsRule: v.fpsRule, segment: v.segment, timeTokens: v.timeTokens, preamble: v.preamble,
    contextSize: c.contextSize, budget: c.budget, fit: 'pad',
    ...(v.subtitles !== undefined && !audioPart ? { subtitles: v.subtitles } : {}),
    ...(v.audio !== undefined ? { audio: v.audio } : {}), ...(v.audioWindow !== undefined ? { audioWindow: v.audioWindow } : {}),
    ...(v.audioLength !== undefined ? { audioLength: v.audioLength } : {}),
    reduce: v.reduce ?? null,
    soundOnly: audioPart, signal, sourceId: media.identity, hasToken: c.hasToken, ffmpegOptions: media.ffmpegOptions,
    countText: boundedCount(model, c.contextSize), lazyPixels: true,
    encoder: sharedEncoder(model, media.identity, c.encoding, signal),
    check: (probe, plan) => {
      const { isImage, duration } = probe;
      if (!info.vision && isImage) throw new HttpError(400, 'unsupported_value', 'the model has no vision encoder: it takes sound, not pictures', { param });
      if (audioPart && !probe.audio) throw badRequest('invalid_media', 'the input_audio part holds no audio stream', param);
      if (!isImage && duration > o.maxDuration) {
        throw new HttpError(400, 'media_too_long', `the video lasts ${duration.toFixed(1)} s; this server takes at most ${o.maxDuration} s (--max-duration)`, { param });
      }
      // the least frames the plan gives, known before decoding: by count, or fps × the segment's length
      const span = Math.min(v.segment?.[1] ?? duration, duration) - (v.segment?.[0] ?? 0);
      const expected = plan.audioOnly ? 0 : plan.byCount || isImage ? plan.count : Math.max(1, Math.floor(span * (v.fps ?? 1)));
      if (expected > o.maxFrames) throw new HttpError(400, 'too_many_frames', `the request samples ${expected} frames; this server takes at most ${o.maxFrames}`, { param });
    },
  }).catch((e: unknown) => { throw asRequestError(e, param); });
  c.metrics.stage.observe({ stage: 'decode' }, read.decodeMs / 1000);
  const { plan, video, encoded } = read;
  if (video.frames.length > o.maxFrames) throw new HttpError(400, 'too_many_frames', `the request samples more than ${o.maxFrames} frames`, { param });
  let enc = video.frames.length, cached = 0;
  if (encoded.kind === 'grids') {
    c.metrics.stage.observe({ stage: 'encode' }, encoded.ms / 1000);
    enc = encoded.stats?.encoded ?? enc;
    cached = encoded.stats?.cached ?? 0;
    c.metrics.cacheHits.inc(cached);
    c.metrics.cacheMisses.inc(enc);
    for (const f of video.frames) f.rgb = new Uint8Array(0); // the pixels are not needed past encoding
  }
  const key = createHash('sha1').update(JSON.stringify([media.identity, plan.strategy, v.timeTokens, video.frames.map((f) => f.t), plan.audio ?? null, audioPart, v.segment ?? null, v.reduce ?? null])).digest('hex');
  const warnings = video.warning ? video.warning.split('; ') : [];
  return {
    read, strategy: plan.strategy, duration: video.duration, frames: video.frames.map((f) => ({ index: f.index, t: f.t })), key,
    visual: read.assembled.kind === 'items' ? read.assembled.visual : 0, encoded: enc, cached,
    audioChunks: video.audio?.chunks.length ?? 0, cues: video.cues?.length ?? 0, warnings,
    ...(media.downloaded === undefined ? {} : { remote: media.downloaded ? 'downloaded' as const : 'not_modified' as const }),
  };
}

/**
 * Subtitle text counted on the event loop only up to what a slot can hold: past the cap (the
 * characters of a full context, text.ts) the request is refused before anything tokenizes it.
 */
function boundedCount(model: Model, contextSize: number): (text: string) => number {
  const cap = textCap(model, contextSize);
  let chars = 0;
  return (text) => {
    chars += text.length;
    if (chars > cap) throw new HttpError(400, 'context_length_exceeded', `the subtitles hold more than ${cap} characters of text, more than a slot of this server can hold`, { param: 'vidlm.subtitles' });
    return model.handle.countTokens(text);
  };
}
