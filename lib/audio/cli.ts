/** `--audio [interleave|prefix]` for the CLI (see lib/optional-value.ts). */
import type { AudioOption } from './media.js';

/** The values a bare `--audio` may take from the next word. */
export const AUDIO_VALUE = /^(interleave|prefix)$/;

/** `--audio` as the option: a bare flag is true (interleave). */
export function audioFlag(v: string | undefined): AudioOption | undefined {
  return v === undefined ? undefined : v === 'true' ? true : v as AudioOption;
}
