/**
 * What a request's media part carries besides its frames: its sound (for an audio model, through
 * libmtmd's own audio path, ordered among the frames as ask() does) and its subtitle cues (any
 * model). A subtitle file is taken only from inside the media folder, checked like file:// media;
 * a missing track or a video without sound is a warning in the response, never a failure.
 */
import { fileURLToPath } from 'node:url';
import { audioBudgetError, audioSpan } from '../audio/check.js';
import { checkAudioOption, orderedMedia, readAudioMedia, stepContent, type CheckedAudio } from '../audio/media.js';
import type { MediaStep } from '../audio/plan.js';
import type { MediaInput } from '../inference/encode.js';
import type { ModelInfo } from '../model-info.js';
import { temporalMerge } from '../subtitles/cues.js';
import { isSubtitleFile } from '../subtitles/external.js';
import { loadSubtitles, type SubtitleSpec } from '../subtitles/load.js';
import { interleaveMarkers, subtitleTranscript } from '../subtitles/prompt.js';
import type { SubtitleCue, VideoFrame } from '../video/types.js';
import type { VideoSource } from '../video/video.js';
import { HttpError, badRequest } from './errors.js';
import { localFile } from './media.js';
import type { CheckedServerOptions } from './options.js';
import type { VideoOptions } from './request.js';

/** The request's `subtitles`: a file becomes its real path inside the media folder (403 outside it); tracks stay as they are. */
export async function resolveSubtitles(spec: SubtitleSpec | undefined, o: CheckedServerOptions): Promise<SubtitleSpec | undefined> {
  if (typeof spec !== 'string' || !isSubtitleFile(spec)) return spec;
  const param = 'vidlm.subtitles';
  let path = spec;
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec)) {
    if (!spec.startsWith('file:')) throw badRequest('invalid_value', 'a subtitle file is a path or file:// URL inside the media folder', param);
    try { path = fileURLToPath(spec); } catch { throw badRequest('invalid_value', `not a valid file URL: ${spec.slice(0, 200)}`, param); }
  }
  const file = await localFile(path, o, param);
  return file.input as string;
}

/** The sound of a part, checked before decoding: null when the part goes without it. */
export function soundPlan(v: VideoOptions, soundOnly: boolean, info: ModelInfo, source: VideoSource, frames: number, budget: number, param: string): CheckedAudio | null {
  const mode = v.audio ?? (soundOnly ? 'prefix' : undefined);
  const checked = checkAudioOption(mode, v.audioWindow, info, v.audioLength);
  if (!checked) return null;
  const e = audioBudgetError(checked, source.probe, info, frames, budget, v.segment);
  if (e) throw new HttpError(400, 'context_length_exceeded', e.message, { param });
  return checked;
}

export interface PartExtras {
  /** Native path: the frames and audio clips in evaluation order, and the user content around their markers. */
  items: MediaInput[];
  content?: (marker: string) => string;
  /** Pooled path: the timed subtitle transcript that follows the media ('' without cues). */
  transcript: string;
  audioChunks: number;
  cues: number;
  warnings: string[];
}

/** Reads the part's sound and cues from the open source (after its frames) and lays them out. */
export async function readExtras(source: VideoSource, frames: VideoFrame[], sound: CheckedAudio | null, v: VideoOptions, info: ModelInfo,
  opts: { subtitles: boolean; signal: AbortSignal }): Promise<PartExtras> {
  const warnings: string[] = [];
  const times = frames.map((f) => f.t);
  let steps: MediaStep[] | null = null;
  let items: MediaInput[] = frames;
  let audioChunks = 0;
  if (sound) {
    const a = await readAudioMedia(source, sound, times, audioSpan(source.probe, v.segment), info.audioSampleRate ?? 16000, opts.signal);
    warnings.push(...a.warnings);
    steps = a.steps;
    items = orderedMedia(a.steps, frames, a.chunks);
    audioChunks = a.chunks.length;
  }
  let cues: SubtitleCue[] = [];
  if (opts.subtitles && v.subtitles !== undefined) {
    const subs = await loadSubtitles(source, v.subtitles, opts.signal);
    cues = subs.track?.cues ?? [];
    warnings.push(...subs.warnings);
  }
  const group = temporalMerge(info.projectorType);
  const content = steps
    ? (marker: string) => stepContent(marker, steps, times, cues, v.segment, group)
    : cues.length > 0 ? (marker: string) => interleaveMarkers(marker, times, cues, v.segment, group) : undefined;
  return { items, ...(content ? { content } : {}), transcript: subtitleTranscript(times, cues, v.segment), audioChunks, cues: cues.length, warnings };
}
