/**
 * The `audio` option of the video questions: checks it against the model, reads the track at the
 * encoder's rate (swresample, in the addon) and turns the plan of lib/audio/plan.ts into the
 * media list and the user content libmtmd tokenizes (one marker per picture or audio chunk).
 */
import { VidlmError } from '../errors.js';
import type { SubtitleCue } from '../video/types.js';
import type { VideoSource } from '../video/video.js';
import type { MediaAudio } from './clip.js';
import { cueLines } from '../subtitles/cues.js';
import { DEFAULT_AUDIO_WINDOW, PADDED_AUDIO_WINDOW, mediaOrder, type AudioMode, type MediaStep } from './plan.js';
import { audioSampleTokens, countsAudio, type AudioCost, type AudioLength } from './budget.js';

/** The `audio` option: true (= 'interleave'), a mode, or false / undefined for no sound. */
export type AudioOption = boolean | AudioMode;

export type { MediaAudio } from './clip.js';

/** The option checked: mode, window in seconds, and what a clip costs (AudioCost). */
export interface CheckedAudio extends AudioCost { mode: AudioMode; window: number }

/** The model facts the option needs (ModelInfo has them). */
export interface AudioModelFacts { audio: boolean; projectorType?: string | null; audioProjectorType?: string | null; audioSampleRate?: number | null }

/** What the default window depends on: the seconds of sound, the frames among them and how many frames libmtmd merges into one image (Qwen-VL: 2). */
export interface WindowLayout { span: number; frames: number; merge: number }

/**
 * The window when none is asked for, from the cost rule (lib/audio/budget.ts):
 *  - 'padded' (every window costs a whole 30-s chunk): the longest window of one chunk, 29.9 s;
 *  - 'real' (a window costs its seconds, ~25 tokens a second, whatever its length): Qwen2.5-Omni's
 *    2 s, lengthened where the model merges frame pairs until a window holds a whole pair (with
 *    uniform frames), since a chunk of sound between two frames keeps libmtmd from merging them;
 *  - an encoder whose cost is unknown (null): 2 s.
 */
export function defaultAudioWindow(length: 'real' | 'padded' | null, layout?: WindowLayout): number {
  if (length === 'padded') return PADDED_AUDIO_WINDOW;
  if (length === null || !layout || layout.merge <= 1 || layout.frames < 2 || !(layout.span > 0)) return DEFAULT_AUDIO_WINDOW;
  return Math.max(DEFAULT_AUDIO_WINDOW, Math.min(PADDED_AUDIO_WINDOW, (layout.merge * layout.span) / layout.frames));
}

/**
 * null when audio is off; ERR_UNSUPPORTED naming the option when the model has no audio encoder.
 * `audioLength` (default 'real'): the embeddings of the real samples or libmtmd's 30-s padded
 * chunks (lib/audio/budget.ts). Without `audioWindow`, the window comes from the cost rule
 * (defaultAudioWindow) for `layout` (the span and frames asked for, when known).
 */
export function checkAudioOption(audio: unknown, audioWindow: unknown, info: AudioModelFacts, audioLength?: unknown, layout?: WindowLayout): CheckedAudio | null {
  if (audioWindow !== undefined && !(typeof audioWindow === 'number' && audioWindow > 0 && audioWindow <= 3600)) {
    throw new VidlmError('ERR_INVALID_ARG', `audioWindow must be seconds in (0, 3600], got ${String(audioWindow)}`, { option: 'audioWindow' });
  }
  if (audioLength !== undefined && audioLength !== 'real' && audioLength !== 'padded') {
    throw new VidlmError('ERR_INVALID_ARG', `audioLength must be 'real' or 'padded', got ${JSON.stringify(audioLength)}`, { option: 'audioLength' });
  }
  if (audio === undefined || audio === false) return null;
  if (audio !== true && audio !== 'interleave' && audio !== 'prefix') {
    throw new VidlmError('ERR_INVALID_ARG', `audio must be true, 'interleave' or 'prefix', got ${JSON.stringify(audio)}`, { option: 'audio' });
  }
  if (!info.audio) throw new VidlmError('ERR_UNSUPPORTED', "the option 'audio' needs a model whose mmproj has an audio encoder (model.info.audio is false)", { option: 'audio' });
  // a mixed mmproj names its audio tower's projector apart from the vision one
  const projector = info.audioProjectorType ?? info.projectorType ?? null;
  const length = (audioLength as AudioLength | undefined) ?? 'real';
  const cost: AudioCost = { projector, rate: info.audioSampleRate ?? 16000, length };
  const window = (audioWindow as number | undefined) ?? defaultAudioWindow(countsAudio(projector) ? length : null, layout);
  return { mode: audio === true ? 'interleave' : audio, window, ...cost };
}

export interface AudioMedia {
  steps: MediaStep[];
  /** The audio chunks in step order. */
  chunks: MediaAudio[];
  warnings: string[];
}

/** Reads the audio of `span` and orders it with the frames; a source without audio is a warning. */
export async function readAudioMedia(source: VideoSource, a: CheckedAudio, frameTimes: number[], span: [number, number], rate: number, signal?: AbortSignal): Promise<AudioMedia> {
  if (!source.probe.audio) {
    return { steps: mediaOrder(frameTimes, [0, 0], a.mode), chunks: [], warnings: [`audio: ${source.probe.source} has no audio track; the frames alone were used`] };
  }
  const clip = await source.audio({ sampleRate: rate, channels: 1, segment: span, signal });
  return cutAudioMedia(clip, a, frameTimes, span, rate);
}

/** The sound of `span` (a clip whose samples[0] is at `clip.t`, at `rate`) cut into the plan's chunks and ordered with the frames (a file's track, or a live stream's). */
export function cutAudioMedia(clip: { t: number; samples: Float32Array }, a: CheckedAudio, frameTimes: number[], span: [number, number], rate: number): AudioMedia {
  const steps = mediaOrder(frameTimes, span, a.mode, a.window);
  const chunks: MediaAudio[] = [];
  for (const s of steps) {
    if (s.kind !== 'audio') continue;
    const from = Math.round((s.start - clip.t) * rate);
    const to = Math.min(clip.samples.length, Math.round((s.end - clip.t) * rate));
    const samples = clip.samples.slice(from, to);
    // real-length audio: the prefill evaluates only the embeddings of these samples
    const tokens = a.length === 'real' ? audioSampleTokens(a, samples.length) : null;
    chunks.push(tokens === null ? { audio: samples } : { audio: samples, tokens });
  }
  return { steps, chunks, warnings: [] };
}

/**
 * The native path's layout of a video: frames and audio chunks in step order (the frames alone
 * without audio), and the user content around their markers with the subtitle cues after their
 * frame (after the last frame of a group when libmtmd merges `group` frames); no content when
 * there is neither sound nor a cue (the markers alone).
 */
export function nativeLayout<F extends { t: number }>(frames: readonly F[], audio: Pick<AudioMedia, 'steps' | 'chunks'> | undefined,
  cues: SubtitleCue[], segment?: [number, number], group = 1): { frames: readonly (F | MediaAudio)[]; content?: (marker: string) => string } {
  if (!audio && cues.length === 0) return { frames };
  const times = frames.map((f) => f.t);
  const steps: MediaStep[] = audio ? audio.steps : times.map((t, index) => ({ kind: 'frame', index, t }));
  return {
    frames: audio ? orderedMedia(steps, frames, audio.chunks) : frames,
    content: (marker) => stepContent(marker, steps, times, cues, segment, group),
  };
}

/** The media list in step order, frames taken from `frames` by index. */
export function orderedMedia<F>(steps: MediaStep[], frames: readonly F[], chunks: readonly MediaAudio[]): (F | MediaAudio)[] {
  let c = 0;
  return steps.map((s) => (s.kind === 'frame' ? frames[s.index]! : chunks[c++]!));
}

/** The user content: one marker per step, with subtitle cues after the marker of their frame. */
export function stepContent(marker: string, steps: MediaStep[], frameTimes: number[], cues: SubtitleCue[], segment?: [number, number], group = 1): string {
  const { before, after } = cueLines(cues, frameTimes, segment, group);
  let s = before.map((line) => `${line}\n`).join('');
  for (const st of steps) {
    s += marker;
    const lines = st.kind === 'frame' ? after[st.index]! : [];
    if (lines.length > 0) s += `\n${lines.join('\n')}\n`;
  }
  return s;
}
