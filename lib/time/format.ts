/** Timestamp text for the `text` time encoding; every form it prints, parseTimes reads back. */
import { VidlmError } from '../errors.js';
import { formatFixed } from './round.js';

/** A template (`{t}`, `{t:N}`, `{clock}`, `{clock:N}` placeholders) or a function of seconds. */
export type TimeFormat = string | ((t: number) => string);

export const DEFAULT_TIME_FORMAT = '[{t}s]';

/** Seconds with at most 2 decimals and at least 1: 12.5 → "12.5", 12 → "12.0", 1/3 → "0.33". */
export function formatSeconds(t: number): string {
  const s = formatFixed(t, 2).replace(/0$/, '');
  return s.endsWith('.') ? `${s}0` : s;
}

/** `M:SS` or `H:MM:SS`, with `digits` decimals on the seconds (trimmed like formatSeconds when omitted). */
export function formatClock(t: number, digits?: number): string {
  const total = Number(formatFixed(Math.max(t, 0), digits ?? 2));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total - h * 3600) / 60);
  const sec = total - h * 3600 - m * 60;
  let s = digits === undefined ? formatFixed(sec, 2).replace(/\.?0+$/, '') : formatFixed(sec, digits);
  const [whole] = s.split('.') as [string];
  if (whole.length < 2) s = `0${s}`;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function formatTime(t: number, format: TimeFormat = DEFAULT_TIME_FORMAT): string {
  if (typeof format === 'function') return format(t);
  return format.replace(/\{(t|clock)(?::(\d+))?\}/g, (_, kind: string, digits?: string) => {
    const d = digits === undefined ? undefined : Number(digits);
    if (kind === 'clock') return formatClock(t, d);
    return d === undefined ? formatSeconds(t) : formatFixed(t, d);
  });
}

export function checkTimeFormat(format: unknown): TimeFormat {
  if (typeof format === 'function') return format as (t: number) => string;
  if (typeof format === 'string' && /\{(t|clock)(?::\d+)?\}/.test(format)) return format;
  throw new VidlmError('ERR_INVALID_ARG', `timeFormat must be a function or a template containing {t}, {t:N}, {clock} or {clock:N}, got ${JSON.stringify(format)}`);
}
