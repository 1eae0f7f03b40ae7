/**
 * A plan that holds audio clips, evaluated in plan order as one unit of its context's queue: the
 * runs of other items between the clips through the native prefill, each clip through libmtmd's
 * audio path (its mel, encoder, the family's markers such as `<|audio_bos|>` … `<|audio_eos|>`,
 * and the positions libmtmd gives it at the sequence's end). The context supplies the two
 * evaluations; this module cuts the plan, adds up what they did and undoes a failed unit.
 */
import { throwIfAborted } from '../errors.js';

/**
 * An audio clip in a plan (mono PCM at `model.info.audioSampleRate`): prefill() evaluates it
 * through libmtmd's own audio path, as prefillMedia does, at its place between the other items.
 */
export interface AudioItem {
  /** Mono PCM samples in [-1, 1] at the encoder's rate. */
  audio: Float32Array;
  /** Evaluate only the first `tokens` of the clip's embeddings (as MediaAudio.tokens). Default: all. */
  tokens?: number;
}

export const isAudioItem = (item: unknown): item is AudioItem => item !== null && typeof item === 'object' && (item as AudioItem).audio instanceof Float32Array;

/** What one evaluation reports (a PrefillResult's counts). */
export interface StepResult { evaluated: number; ms: number; decodes?: number; mediaTokens?: number }

/** A clip as the prefill evaluated it: the positions it took, its KV cells, the embeddings libmtmd made of it. */
export interface ClipReport { positions: number; evaluated: number; mediaTokens: number }

/** How the context evaluates each part, at its sequence's end. */
export interface AudioPrefillSteps<T> {
  nPast(): number;
  /** A run of other items; `first`: the plan's first part (BOS goes there). */
  run(items: T[], first: boolean, onProgress?: (f: number) => void): Promise<StepResult>;
  clip(item: AudioItem, onProgress?: (f: number) => void): Promise<StepResult>;
  /** Forgets the sequence from `pos` on, if it grew past it (and its context is still there). */
  truncate(pos: number): void;
}

/** The plan cut at its clips: each run of other items, and each clip alone, in order. */
export function splitAtClips<T>(plan: ReadonlyArray<T | AudioItem>): Array<T[] | AudioItem> {
  const parts: Array<T[] | AudioItem> = [];
  for (const item of plan) {
    if (isAudioItem(item)) { parts.push(item); continue; }
    const last = parts[parts.length - 1];
    if (Array.isArray(last)) last.push(item); else parts.push([item]);
  }
  return parts;
}

/** Evaluates the parts in order; on a failure (abort, context full) the sequence goes back to where it was. */
export async function prefillWithAudio<T>(plan: ReadonlyArray<T | AudioItem>, steps: AudioPrefillSteps<T>, signal: AbortSignal | undefined,
  onProgress: ((f: number) => void) | undefined): Promise<Required<StepResult> & { nPast: number; clips: ClipReport[] }> {
  const parts = splitAtClips(plan);
  const before = steps.nPast();
  const total = { evaluated: 0, nPast: before, ms: 0, decodes: 0, mediaTokens: 0, clips: [] as ClipReport[] };
  try {
    for (let i = 0; i < parts.length; i++) {
      throwIfAborted(signal);
      const part = parts[i]!;
      const at = steps.nPast();
      const report = onProgress && ((f: number) => onProgress((i + f) / parts.length));
      const r = Array.isArray(part) ? await steps.run(part, i === 0, report) : await steps.clip(part, report);
      total.evaluated += r.evaluated;
      total.ms += r.ms;
      total.decodes += r.decodes ?? 0;
      total.mediaTokens += r.mediaTokens ?? 0;
      if (!Array.isArray(part)) total.clips.push({ positions: steps.nPast() - at, evaluated: r.evaluated, mediaTokens: r.mediaTokens ?? 0 });
    }
  } catch (e) {
    steps.truncate(before);
    throw e;
  }
  total.nPast = steps.nPast();
  return total;
}
