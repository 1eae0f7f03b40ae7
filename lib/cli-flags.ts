/** Parsing of the CLI's flags that every command reads the same way. */
import { AUDIO_VALUE, audioFlag } from './audio/cli.js';
import type { AudioLength, AudioOption } from './audio/media.js';
import { optionalValues } from './optional-value.js';
import { VidlmError } from './errors.js';
import { SUBTITLE_VALUE, subtitleOption } from './subtitles/cli.js';
import type { SubtitleSpec } from './video/subtitles.js';

/** A numeric flag's value; undefined when absent, ERR_INVALID_ARG (with `option`) when not a number (or not in range). */
export function num(name: string, v: string | undefined, opts: { int?: boolean; min?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (opts.int && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min)) {
    throw new VidlmError('ERR_INVALID_ARG', `--${name} must be ${opts.int ? 'an integer' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''} (got ${JSON.stringify(v)})`, { option: name });
  }
  return n;
}

/** The answer's flags of the commands that ask (ask, localize, describe, watch, and batch's job defaults). */
export const answerFlags = {
  'max-tokens': { type: 'string', short: 'n' },
  temp: { type: 'string' },
  seed: { type: 'string' },
  'ctx-size': { type: 'string', short: 'c' },
} as const;

/** answerFlags' values as options (undefined where a flag is absent). */
export function answerOptions(v: { 'max-tokens'?: string; temp?: string; seed?: string; 'ctx-size'?: string }) {
  return { maxTokens: num('max-tokens', v['max-tokens']), temperature: num('temp', v.temp), seed: num('seed', v.seed), contextSize: num('ctx-size', v['ctx-size']) };
}

/** `--audio [interleave|prefix]`, `--audio-window S`, `--subtitles [LANG|FILE]`. */
export const soundFlags = {
  audio: { type: 'string' },
  'audio-window': { type: 'string' },
  'audio-length': { type: 'string' },
  subtitles: { type: 'string' },
} as const;

/** The arguments with soundFlags' optional values made explicit (a bare flag becomes `--flag=true`), for parseArgs. */
export const withSoundValues = (args: string[]): string[] => optionalValues(args, { subtitles: SUBTITLE_VALUE, audio: AUDIO_VALUE });

/** soundFlags' values as options. */
export function soundOptions(v: { audio?: string; 'audio-window'?: string; 'audio-length'?: string; subtitles?: string }): { audio?: AudioOption; audioWindow?: number; audioLength?: AudioLength; subtitles?: SubtitleSpec } {
  // the value is checked with the option (ERR_INVALID_ARG naming audioLength)
  return { audio: audioFlag(v.audio), audioWindow: num('audio-window', v['audio-window']), audioLength: v['audio-length'] as AudioLength | undefined, subtitles: subtitleOption(v.subtitles) };
}
