/**
 * Time encoding of a sequence plan: what text, if any, precedes each frame (or group of tokens
 * taken from one frame) so the model knows when it was taken. Always from the frame's real
 * timestamp, never its index, so uneven sampling and seeks stay truthful.
 */
import { VidlmError } from '../errors.js';

/** Text to tokenize. `special`: the text is one token of the model's vocabulary (parse it as such). */
export interface TextItem {
  text: string;
  special?: boolean;
}
import { checkTimeFormat, DEFAULT_TIME_FORMAT, formatTime, type TimeFormat } from './format.js';
import { LITA_NUM_TIME_TOKENS, litaToken, secondsToLitaIndex, type LitaSpelling } from './lita.js';

/**
 * `none`, `text` and `lita` mark the frames of a pooled plan (below); `model` is the Qwen-VL family's own
 * layout of time on the `native` strategy (its processor's temporal positions or `<t seconds>` text:
 * lib/pipeline/assemble.ts modelTimeItems), with no marker of vidlm's between the frames.
 */
export type TimeTokenMode = 'none' | 'text' | 'lita' | 'model';

export interface TimeEncodingOptions {
  /** `none` (default), `text` (a timestamp such as `[12.5s]`), `lita` (relative time tokens) or `model` (the model's own; no marker here). */
  timeTokens?: TimeTokenMode;
  /** Video duration in seconds; required by `lita`, whose tokens are fractions of it. */
  duration?: number;
  /** `text` mode: template or function; default `[{t}s]` → `[12.5s]`. */
  timeFormat?: TimeFormat;
  /** `lita` mode: `released` → `<t0>…<t99>` (default), `paper` → `<1>…<100>`. */
  litaSpelling?: LitaSpelling;
  /** `lita` mode: size of the time vocabulary (LITA: 100). */
  numTimeTokens?: number;
  /**
   * `lita` mode: does the model's vocabulary hold this token? When it does, the marker is sent
   * as one special token (`special: true`); otherwise as plain text, split by the tokenizer.
   */
  hasToken?: (token: string) => boolean;
}

export interface ResolvedTimeEncoding {
  mode: TimeTokenMode;
  duration?: number;
  format: TimeFormat;
  spelling: LitaSpelling;
  numTimeTokens: number;
  hasToken?: (token: string) => boolean;
}

const MODES: readonly TimeTokenMode[] = ['none', 'text', 'lita', 'model'];

export function resolveTimeEncoding(opts: TimeEncodingOptions = {}): ResolvedTimeEncoding {
  const mode = opts.timeTokens ?? 'none';
  if (!MODES.includes(mode)) throw new VidlmError('ERR_INVALID_ARG', `timeTokens must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  const { duration } = opts;
  if (duration !== undefined && !(Number.isFinite(duration) && duration > 0)) {
    throw new VidlmError('ERR_INVALID_ARG', `duration must be a positive number of seconds, got ${String(duration)}`);
  }
  if (mode === 'lita' && duration === undefined) {
    throw new VidlmError('ERR_INVALID_ARG', 'timeTokens "lita" needs the video duration: LITA time tokens are fractions of it');
  }
  const numTimeTokens = opts.numTimeTokens ?? LITA_NUM_TIME_TOKENS;
  if (!Number.isSafeInteger(numTimeTokens) || numTimeTokens < 2) {
    throw new VidlmError('ERR_INVALID_ARG', `numTimeTokens must be an integer >= 2, got ${String(numTimeTokens)}`);
  }
  const spelling = opts.litaSpelling ?? 'released';
  if (spelling !== 'released' && spelling !== 'paper') {
    throw new VidlmError('ERR_INVALID_ARG', `litaSpelling must be "released" or "paper", got ${JSON.stringify(spelling)}`);
  }
  if (opts.hasToken !== undefined && typeof opts.hasToken !== 'function') {
    throw new VidlmError('ERR_INVALID_ARG', 'hasToken must be a function (token: string) => boolean');
  }
  const format = opts.timeFormat === undefined ? DEFAULT_TIME_FORMAT : checkTimeFormat(opts.timeFormat);
  const resolved: ResolvedTimeEncoding = { mode, format, spelling, numTimeTokens };
  if (duration !== undefined) resolved.duration = duration;
  if (opts.hasToken) resolved.hasToken = opts.hasToken;
  return resolved;
}

/** The text item that goes before a frame taken at `t` seconds, or null for `none`. */
export function timeMarker(t: number, enc: ResolvedTimeEncoding): TextItem | null {
  switch (enc.mode) {
    case 'none':
    case 'model': // the model's layout carries the time (lib/pipeline/assemble.ts modelTimeItems), not a marker
      return null;
    case 'text':
      return { text: formatTime(t, enc.format) };
    case 'lita': {
      const token = litaToken(secondsToLitaIndex(t, enc.duration as number, enc.numTimeTokens), enc.spelling);
      return enc.hasToken?.(token) ? { text: token, special: true } : { text: token };
    }
  }
}
