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
import type { MediaStep } from './plan.js';

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
