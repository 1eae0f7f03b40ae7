/**
 * The options of ask, describe, localize and chat, every one checked before any work starts:
 * types and ranges (ERR_INVALID_ARG naming the option), the grammar or JSON schema (ERR_GRAMMAR),
 * callbacks wrapped so that a throwing one cancels the call with ERR_CALLBACK.
 */
import { checkAudioOption } from '../audio/media.js';
import { CallbackGuard } from '../callbacks.js';
import { VidlmError } from '../errors.js';
import { generateParams, resolveGrammar } from '../inference/generate-options.js';
import type { Model } from '../model.js';
import type { NativeGenerateParams } from '../native.js';
import { invalid, optionalBool, optionalFunction, optionalInt, optionalNumber, optionalSignal } from '../options.js';
import { resolveTimeEncoding, type TimeEncodingOptions } from '../time/encode.js';
import type { FitMode, FpsRule, VideoInput } from '../video/types.js';
import type { ProgressListener } from '../pipeline/read.js';
import type { PlanQuery } from '../pipeline/plan.js';
import { checkModelTimeOption } from '../pipeline/plan.js';
import { checkSubtitleSpec } from '../video/subtitles.js';
import type { VideoQueryOptions } from './types.js';
import { checkContextLimit, checkFramesLimit } from '../limits.js';
import { checkReduce, type ReduceSpec } from '../reduce/option.js';

/** A query's options, checked: the pipeline's query (PlanQuery) and what the API adds around it. */
export interface CheckedQuery extends Omit<PlanQuery, 'parts' | 'soundOnly' | 'reduce'> {
  model: Model;
  timeFormat?: TimeEncodingOptions['timeFormat'];
  litaSpelling?: TimeEncodingOptions['litaSpelling'];
  system?: string;
  sequences: number;
  encodeBatchSize?: number;
  reduce: ReduceSpec | null;
  /** Generation parameters, grammar parsed by llama.cpp already. */
  generate: NativeGenerateParams;
  /** The caller's signal, also aborted when a callback fails; run the work in guard.run(). */
  guard: CallbackGuard;
  onProgress?: ProgressListener;
  onToken?: (piece: string) => void;
}

const FITS: readonly FitMode[] = ['stretch', 'pad', 'crop'];
export const FPS_RULES: readonly FpsRule[] = ['time', 'step', 'ffmpeg'];

/** `fpsRule`: one of FPS_RULES, and only beside `fps` (a count plan has rules of its own). */
export function checkFpsRule(rule: unknown, fps: unknown): FpsRule | undefined {
  if (rule === undefined) return undefined;
  if (!FPS_RULES.includes(rule as FpsRule)) throw invalid('fpsRule', "'time', 'step' or 'ffmpeg'", rule);
  if (fps === undefined) throw new VidlmError('ERR_INVALID_ARG', 'fpsRule chooses the frames of an fps plan: give fps with it', { option: 'fpsRule' });
  return rule as FpsRule;
}

/** A video argument: a path, a URL, or the bytes of a file. */
export function checkVideoInput(v: unknown): VideoInput {
  if ((typeof v === 'string' && v.length > 0) || v instanceof URL || v instanceof Uint8Array) return v;
  throw invalid('video', 'a path, a URL or a Buffer/Uint8Array', v);
}

export function checkQuestion(name: string, v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw invalid(name, 'a non-empty string', v);
  return v;
}

/** `sequences`: KV sequences of a chat's context (the chat and its forks). */
export function checkQuery(o: VideoQueryOptions, defaults: { sequences: number }): CheckedQuery {
  if (!o || typeof o !== 'object') throw invalid('options', 'an object with a model', o);
  if (!o.model || typeof o.model.encode !== 'function') throw invalid('model', 'a Model from loadModel()', o.model);
  if (o.model.disposed) throw new VidlmError('ERR_DISPOSED', 'the model was disposed');
  const info = o.model.info;
  if (!info.vision && !info.audio) throw new VidlmError('ERR_UNSUPPORTED', 'the model has no vision or audio encoder: load it with its mmproj');
  if (o.frames !== undefined && o.fps !== undefined) throw new VidlmError('ERR_INVALID_ARG', 'give frames or fps, not both', { option: 'frames' });
  if (o.segment !== undefined) {
    const s = o.segment as unknown;
    if (!Array.isArray(s) || s.length !== 2 || !s.every((x) => typeof x === 'number' && Number.isFinite(x)) || s[0] < 0 || !(s[0] < s[1])) {
      throw new VidlmError('ERR_INVALID_ARG', `segment must be [start, end] seconds with 0 <= start < end (got ${JSON.stringify(s)})`, { option: 'segment' });
    }
  }
  if (o.strategy !== undefined && typeof o.strategy !== 'string') throw invalid('strategy', "'auto' or a strategy name", o.strategy);
  const fpsRule = checkFpsRule(o.fpsRule, o.fps);
  const fit = o.fit ?? 'pad';
  if (!FITS.includes(fit)) throw invalid('fit', FITS.map((f) => `'${f}'`).join(', '), fit);
  if (o.system !== undefined && typeof o.system !== 'string') throw invalid('system', 'a string', o.system);
  // checked again by the plan (which also knows the file); here so that bad values fail before any work
  checkSubtitleSpec(o.subtitles);
  checkAudioOption(o.audio, o.audioWindow, info, o.audioLength);
  // the time options alone (a placeholder duration: the video's is known later)
  const time = resolveTimeEncoding({ timeTokens: o.timeTokens, timeFormat: o.timeFormat, litaSpelling: o.litaSpelling, duration: 1 });
  checkModelTimeOption(o.timeTokens, o.strategy, info);
  const contextSize = optionalInt('contextSize', o.contextSize, 64, 1 << 24, Math.min(4096, info.nCtxTrain || 4096, o.model.limits.contextSize));
  const frames = o.frames === undefined ? undefined : optionalInt('frames', o.frames, 1, 10_000, 1);
  checkContextLimit(o.model.limits, contextSize); // before any context is made or anything decoded
  checkFramesLimit(o.model.limits, frames);
  const guard = new CallbackGuard(optionalSignal('signal', o.signal));
  return {
    model: o.model,
    strategy: o.strategy ?? 'auto',
    frames,
    fps: o.fps === undefined ? undefined : optionalNumber('fps', o.fps, 0.001, 240, 1),
    ...(fpsRule === undefined ? {} : { fpsRule }),
    segment: o.segment,
    ...(o.timeTokens === undefined ? {} : { timeTokens: time.mode }),
    timeFormat: o.timeFormat,
    litaSpelling: o.litaSpelling,
    preamble: optionalBool('preamble', o.preamble, false),
    system: o.system,
    contextSize,
    sequences: optionalInt('sequences', o.sequences, 1, 64, defaults.sequences),
    encodeBatchSize: o.encodeBatchSize === undefined ? undefined : optionalInt('encodeBatchSize', o.encodeBatchSize, 1, 4096, 16),
    fit,
    subtitles: o.subtitles,
    audio: o.audio,
    audioWindow: o.audioWindow,
    audioLength: o.audioLength,
    reduce: checkReduce(o.reduce),
    generate: resolveGrammar(o.model.handle, generateParams(o)),
    guard,
    onProgress: guard.wrap('onProgress', optionalFunction<ProgressListener>('onProgress', o.onProgress)),
    onToken: guard.wrap('onToken', optionalFunction<(piece: string) => void>('onToken', o.onToken)),
  };
}
