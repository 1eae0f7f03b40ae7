/** `--subtitles [LANG|FILE]` for the CLI (see lib/optional-value.ts). */
import type { SubtitleSpec } from '../video/subtitles.js';

export const SUBTITLE_VALUE = /^([a-z]{2,3}(-[a-zA-Z0-9]+)?|.+\.(srt|vtt|webvtt|ass|ssa))$/i;

export function subtitleOption(v: string | undefined): SubtitleSpec | undefined {
  if (v === undefined) return undefined;
  return v === 'true' ? true : v;
}
