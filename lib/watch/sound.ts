/**
 * A watch window's sound, on either path: its budget checked before anything is opened (the
 * pipeline's one budget error, with the largest audio settings that fit), and the order of its
 * frames and clips as the answer hook sees them. The window's clips are read by extras.ts and
 * placed by the pipeline's assemble stage, pooled (audio items among the frame blocks) or native
 * (libmtmd's media), exactly as ask() places them.
 */
import { audioPlanTokens, checkAudioOption, mediaOrder, type AudioMedia, type CheckedAudio } from '../audio/media.js';
import { audioFitHint } from '../audio/suggest.js';
import type { StrategyName } from '../assembly/types.js';
import { temporalMerge, type ModelInfo } from '../model-info.js';
import { imageChunkTokens, mediaBudgetError, visualTokens } from '../pipeline/index.js';

/** What a window's sound is checked with. */
export interface WindowSound {
  info: ModelInfo;
  audio: CheckedAudio | null;
  strategy: StrategyName;
  /** Most frames a window holds (0: the model does not see). */
  frames: number;
  /** The window's length in seconds. */
  window: number;
  budget: number;
  contextSize: number;
}

/** The audio option with its default window from the cost rule, now that the window's strategy and frames are known (as planVideo does for ask). */
export function windowAudio(o: { audio?: unknown; audioWindow?: unknown; audioLength?: unknown }, info: ModelInfo, strategy: StrategyName, frames: number, window: number, fallback: CheckedAudio | null): CheckedAudio | null {
  if (!fallback || o.audioWindow !== undefined || o.audio === undefined || o.audio === false) return fallback;
  return checkAudioOption(o.audio, undefined, info, o.audioLength, { span: window, frames, merge: strategy === 'native' ? temporalMerge(info.projectorType) : 1 });
}

/**
 * ERR_CONTEXT_FULL (option 'audio' when sound is part of it) when a window's frames and sound
 * cannot fit: pooled, the method's visual tokens plus the clips; native, libmtmd's image chunks
 * (frame pairs merged unless clips lie between them) plus the clips.
 */
export function checkWindowMedia(s: WindowSound): void {
  const { info, audio, strategy, frames, window, budget, contextSize } = s;
  const steps = audio ? mediaOrder([], [0, window], audio.mode, audio.window) : [];
  let imageChunks = frames, frameTokens: number;
  if (strategy === 'native') {
    const merge = audio?.mode === 'interleave' ? 1 : temporalMerge(info.projectorType);
    imageChunks = Math.ceil(frames / merge);
    const side = info.imageSize ?? 0;
    frameTokens = frames > 0 ? imageChunks * imageChunkTokens(info, side, side) : 0;
  } else frameTokens = visualTokens(strategy, frames, info);
  const audioTokens = audio ? audioPlanTokens(audio, steps) ?? 0 : 0;
  const total = frameTokens + audioTokens;
  const hint = audio && total > budget ? audioFitHint(audio, [0, window], budget - frameTokens) : '';
  const e = mediaBudgetError({ frames, imageChunks, frameTokens, audioSeconds: audio ? window : 0, audioChunks: steps.length, audioTokens, cues: 0, cueTokens: 0, total },
    budget, contextSize, strategy, hint);
  if (e) throw Object.assign(e, { details: { ...e.details, ...(audio ? { option: 'audio' } : {}) } });
}

/** A window's media in the order the model gets them (frame times from the window's start), for the answer hook. */
export type WindowMedia = ({ kind: 'frame'; t: number } | { kind: 'audio'; samples: Float32Array })[];

/** The pooled path's order of frames and clips (the assemble stage's, from the same steps); `rel` are the frames' times from the window's start. */
export function pooledMedia(audio: AudioMedia, rel: readonly number[]): WindowMedia {
  let c = 0;
  return audio.steps.map((s) => (s.kind === 'frame' ? { kind: 'frame' as const, t: rel[s.index]! } : { kind: 'audio' as const, samples: audio.chunks[c++]!.audio }));
}
