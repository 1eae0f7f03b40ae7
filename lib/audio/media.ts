/**
 * Sound into the model, one concern from the option to the prompt: the `audio` option checked
 * against the model, the order of pictures and sound (mediaOrder, below), what the sound costs in
 * tokens (below), the track read at the encoder's rate (swresample, in the addon) and cut into the
 * plan's chunks (the native path's media list and user content from them: lib/pipeline/assemble.ts).
 * One module, so a budget check and a read reach it through one call each.
 */
import { VidlmError } from '../errors.js';
import type { VideoSource } from '../video/video.js';
import type { MediaAudio } from './clip.js';

/**
 * The order of pictures and sound in a prompt with audio, from their timestamps:
 *  - 'interleave' (Qwen2.5-Omni's TMRoPE layout, video-SALMONN's alignment): the timeline is cut
 *    into windows of `window` seconds (Qwen2.5-Omni: 2 s); each window's frames come first, then
 *    that window's audio, so every chunk of sound sits next to the pictures taken while it played;
 *  - 'prefix': the whole audio, then the frames.
 * Pure: the evaluated sequence is built from this list, and the tests check its order.
 */
export type AudioMode = 'interleave' | 'prefix';

export type MediaStep =
  | { kind: 'frame'; index: number; t: number }
  | { kind: 'audio'; start: number; end: number };

/** Qwen2.5-Omni's chunk length in seconds (2 s of audio per TMRoPE time chunk). */
export const DEFAULT_AUDIO_WINDOW = 2;

/** The longest window libmtmd's Whisper preprocessing encodes as one 30-s chunk (a clip of 29.99 s already takes two). */
export const PADDED_AUDIO_WINDOW = 29.9;

export function mediaOrder(frameTimes: readonly number[], audioSpan: [number, number], mode: AudioMode, window = DEFAULT_AUDIO_WINDOW): MediaStep[] {
  const [from, to] = audioSpan;
  const frames: MediaStep[] = frameTimes.map((t, index) => ({ kind: 'frame', index, t }));
  if (!(to > from)) return frames;
  if (mode === 'prefix') return [{ kind: 'audio', start: from, end: to }, ...frames];
  const out: MediaStep[] = [];
  let f = 0;
  for (let start = from; start < to - 1e-9; start += window) {
    const end = Math.min(to, start + window);
    // frames before this window's end (and any before the audio starts) go first
    while (f < frameTimes.length && frameTimes[f]! < end - 1e-9) out.push(frames[f++]!);
    out.push({ kind: 'audio', start, end });
  }
  while (f < frameTimes.length) out.push(frames[f++]!);
  return out;
}

/**
 * Audio tokens of a clip, before any decoding and for what the prefill evaluates.
 *
 * libmtmd's Whisper preprocessing (mtmd_audio_preprocessor_whisper) pads every clip with 30 s of
 * silence and keeps the whole 3000-frame (30 s) mel chunks. For Qwen2-Audio (`qwen2a`) and
 * Qwen2.5-Omni (`qwen2.5o`) each chunk becomes 3000 / 2 (conv stride) / 2 (average pool) = 750
 * embeddings, however short the clip: the `'padded'` length, llama-mtmd-cli's.
 *
 * Their Hugging Face processors keep only the embeddings of the real samples (`'real'`): the
 * feature extractor's attention mask counts ceil(samples / hop) mel frames (hop 160 at 16 kHz)
 * and `_get_feat_extract_output_lengths` maps them through the stride-2 convolution and the
 * stride-2 pool: (⌊(L − 1) / 2⌋ + 1 − 2) / 2 + 1, about 25 a second (50 for 2 s). Real-length
 * audio evaluates that prefix of libmtmd's embeddings (native/media_prefix.h).
 *
 * The other encoders libmtmd feeds through the same Whisper preprocessing (Voxtral, Ultravox,
 * GLM-A, MERaLiON, Music Flamingo) stack frames or add tokens with their own processors' rules,
 * and the rest have their own preprocessing: null (not counted here, not trimmed; libmtmd's own
 * count still stops an oversized prefill).
 */
/** How much of an audio clip's embeddings the model gets: the real samples' (the reference processors') or libmtmd's 30-s padded chunks. */
export type AudioLength = 'real' | 'padded';

/** The facts the count needs: the audio tower's projector, the encoder's rate, the length rule. */
export interface AudioCost { projector: string | null; rate: number; length: AudioLength }

const WHISPER_POOLED = /^(qwen2a|qwen2\.5o)$/;
/** Mel frames of one chunk of libmtmd's Whisper graph (30 s). */
const CHUNK_FRAMES = 3000;
const CHUNK_TOKENS = 750;

/** Does vidlm know this audio tower's count (and so can keep only the real samples' embeddings)? */
export function countsAudio(projector: string | null): boolean {
  return projector !== null && WHISPER_POOLED.test(projector);
}

/** Hugging Face Qwen2-Audio / Qwen2.5-Omni `_get_feat_extract_output_lengths`: mel frames → embeddings. */
export function whisperOutputLength(melFrames: number): number {
  const conv = Math.floor((melFrames - 1) / 2) + 1;
  return Math.floor((conv - 2) / 2) + 1;
}

/** libmtmd's embeddings of a clip of `samples`: 750 per whole 3000-frame chunk of the clip plus 30 s of silence. */
export function paddedTokens(samples: number, rate: number): number {
  const hop = rate / 100;
  const melFrames = Math.floor((samples + 30 * rate) / hop) + 1;
  return CHUNK_TOKENS * Math.floor(melFrames / CHUNK_FRAMES);
}

/** The embeddings of the real samples (at least one, at most libmtmd's). */
export function realTokens(samples: number, rate: number): number {
  const melFrames = Math.ceil(samples / (rate / 100));
  return Math.min(paddedTokens(samples, rate), Math.max(1, whisperOutputLength(melFrames)));
}

/** Embeddings a clip of `samples` becomes in the prompt, or null when the encoder's count is unknown. */
export function audioSampleTokens(a: AudioCost, samples: number): number | null {
  if (!countsAudio(a.projector)) return null;
  return a.length === 'real' ? realTokens(samples, a.rate) : paddedTokens(samples, a.rate);
}

/** The samples the addon reads for [start, end) (lib/audio/media.ts rounds both ends to samples). */
export function spanSamples(start: number, end: number, rate: number): number {
  return Math.round(end * rate) - Math.round(start * rate);
}

/** Tokens of a clip of `seconds`, or null when the encoder's count is unknown. */
export function audioClipTokens(a: AudioCost, seconds: number): number | null {
  return audioSampleTokens(a, Math.round(seconds * a.rate));
}

/** Tokens of every audio step of a plan, or null when the encoder's count is unknown. */
export function audioPlanTokens(a: AudioCost, steps: readonly MediaStep[]): number | null {
  let n = 0;
  for (const s of steps) {
    if (s.kind !== 'audio') continue;
    const k = audioSampleTokens(a, spanSamples(s.start, s.end, a.rate));
    if (k === null) return null;
    n += k;
  }
  return n;
}

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
 * The window when none is asked for, from the cost rule (above):
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
 * chunks (the cost rule above). Without `audioWindow`, the window comes from the cost rule
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
 * The media order of a plan's frames and sound and the tokens of its sound (0 without sound;
 * null when the encoder's count is unknown): what the budget checks count before decoding.
 */
export function mediaSteps(frameTimes: readonly number[], a: CheckedAudio | null, span: [number, number]): { steps: MediaStep[]; tokens: number | null } {
  const steps = a ? mediaOrder(frameTimes, span, a.mode, a.window) : mediaOrder(frameTimes, [0, 0], 'prefix');
  return { steps, tokens: a ? audioPlanTokens(a, steps) : 0 };
}
