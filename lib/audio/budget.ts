/**
 * Audio tokens before any decoding, for the budget check. libmtmd's Whisper preprocessing
 * (Qwen2-Audio `qwen2a`, Qwen2.5-Omni `qwen2.5o`) pads every clip with 30 s of silence and keeps
 * the whole 3000-frame (30 s) mel chunks: a clip of s seconds is floor(s / 30) + 1 chunks, each
 * 3000 / 2 (conv stride) / 2 (average pool) = 750 embeddings, however short the clip. Other
 * encoders: null (unknown here; libmtmd's own count still stops an oversized prefill).
 */
import type { MediaStep } from './plan.js';

const WHISPER_POOLED = /^(qwen2a|qwen2\.5o)$/;

export function audioClipTokens(projectorType: string | null, seconds: number): number | null {
  if (projectorType === null || !WHISPER_POOLED.test(projectorType)) return null;
  return 750 * (Math.floor(seconds / 30 + 1e-9) + 1);
}

/** Tokens of every audio step of a plan, or null when the encoder's count is unknown. */
export function audioPlanTokens(projectorType: string | null, steps: readonly MediaStep[]): number | null {
  let n = 0;
  for (const s of steps) {
    if (s.kind !== 'audio') continue;
    const k = audioClipTokens(projectorType, s.end - s.start);
    if (k === null) return null;
    n += k;
  }
  return n;
}
