/**
 * What one call on a model may ask for, set by whoever runs the process (loadModel's `limits`;
 * `--max-*` flags of serve, worker and batch): a job's contextSize, frames, seconds of sound and
 * decoded bytes, each checked before any allocation or decoding. A job over a limit fails with
 * ERR_INVALID_ARG, `details: { option, limit, got }` — the job's input is what is wrong, so a
 * queue does not retry it. Without them, one jobs line or API call with `contextSize: 2**24`
 * allocated 9 GB of KV cache, and a 10-hour FLAC was decoded in full.
 */
import { VidlmError } from './errors.js';
import type { ModelInfo } from './model-info.js';
import { invalid, optionalInt } from './options.js';

export interface JobLimits {
  /** Largest context (KV cache, in tokens) a call may ask for. Default: the model's trained length, or 65536 where that is smaller. */
  contextSize?: number;
  /** Most frames a call may sample. Default 1024. */
  frames?: number;
  /** Most seconds of sound a call may decode. Default 3600. */
  audioSeconds?: number;
  /** Most bytes of decoded pictures (RGB) and sound (float PCM) a call may hold, as planned before decoding. Default 4 GiB. */
  decodedBytes?: number;
}

export type ResolvedLimits = Readonly<Required<JobLimits>>;

export const DEFAULT_LIMITS = { frames: 1024, audioSeconds: 3600, decodedBytes: 4 * 2 ** 30, minContextSize: 65536 } as const;

/** Bytes a decoded second of sound takes: 16 kHz mono float32, what the audio encoders are fed. */
const AUDIO_BYTES_PER_SECOND = 16000 * 4;

/** loadModel's `limits`, checked, with the defaults filled in for this model. */
export function resolveLimits(v: unknown, info: Pick<ModelInfo, 'nCtxTrain'>): ResolvedLimits {
  if (v !== undefined && (v === null || typeof v !== 'object')) throw invalid('limits', 'an object', v);
  const o = (v ?? {}) as JobLimits;
  for (const k of Object.keys(o)) if (!['contextSize', 'frames', 'audioSeconds', 'decodedBytes'].includes(k)) throw new VidlmError('ERR_INVALID_ARG', `unknown limit "${k}"`, { option: `limits.${k}` });
  const audio = o.audioSeconds;
  if (audio !== undefined && (typeof audio !== 'number' || !(audio > 0) || !Number.isFinite(audio))) throw invalid('limits.audioSeconds', 'a positive number', audio);
  return Object.freeze({
    contextSize: optionalInt('limits.contextSize', o.contextSize, 16, 1 << 24, Math.max(DEFAULT_LIMITS.minContextSize, info.nCtxTrain || 0)),
    frames: optionalInt('limits.frames', o.frames, 1, 1 << 20, DEFAULT_LIMITS.frames),
    audioSeconds: audio ?? DEFAULT_LIMITS.audioSeconds,
    decodedBytes: optionalInt('limits.decodedBytes', o.decodedBytes, 1, Number.MAX_SAFE_INTEGER, DEFAULT_LIMITS.decodedBytes),
  });
}

function over(option: string, got: number, limit: number, what: string): VidlmError {
  return new VidlmError('ERR_INVALID_ARG', `${option} ${Number.isInteger(got) ? got : got.toFixed(1)} is over this process's limit of ${limit}${what ? ` ${what}` : ''} (loadModel's limits, or --max-* flags)`,
    { option, limit, got });
}

/** A context size a call asks for, against the limit: before the context is made. */
export function checkContextLimit(limits: ResolvedLimits, contextSize: number): void {
  if (contextSize > limits.contextSize) throw over('contextSize', contextSize, limits.contextSize, 'tokens');
}

/** An explicit frame count, before the video is opened. */
export function checkFramesLimit(limits: ResolvedLimits, frames: number | undefined): void {
  if (frames !== undefined && frames > limits.frames) throw over('frames', frames, limits.frames, '');
}

export interface PlannedMedia {
  frames: number;
  audioSeconds: number;
  /** Pixels of one decoded picture (the larger of the source's and the encoder's). */
  framePixels: number;
}

/** The plan of a call (frames resolved on the timeline, seconds of sound), before anything is decoded. */
export function checkPlanLimits(limits: ResolvedLimits, p: PlannedMedia): void {
  if (p.frames > limits.frames) throw over('frames', p.frames, limits.frames, '');
  if (p.audioSeconds > limits.audioSeconds) throw over('audio', p.audioSeconds, limits.audioSeconds, 'seconds: use a segment');
  const bytes = p.frames * p.framePixels * 3 + Math.ceil(p.audioSeconds) * AUDIO_BYTES_PER_SECOND;
  if (bytes > limits.decodedBytes) throw over('decodedBytes', bytes, limits.decodedBytes, 'bytes of decoded media: fewer frames, a segment, or a smaller video');
}

/** The planned media of a budget on a probe and model: what checkPlanLimits judges. */
export function plannedMedia(budget: { frames: number; audioSeconds: number }, video: { displayWidth: number; displayHeight: number } | null, imageSize: number | null): PlannedMedia {
  const source = video ? video.displayWidth * video.displayHeight : 0;
  const encoder = (imageSize ?? 0) ** 2;
  return { frames: budget.frames, audioSeconds: budget.audioSeconds, framePixels: Math.max(source, encoder) };
}
