/**
 * Reading times back out of a model's answer: LITA time tokens, `<12.5>` timestamps, seconds,
 * minutes, clock times and ranges between any two of them, in seconds.
 */
import { VidlmError } from '../errors.js';
import type { TimeTokenMode } from './encode.js';
import { LITA_NUM_TIME_TOKENS, litaIndexToSeconds } from './lita.js';

export interface TimeSpan {
  /** Seconds; start <= end (a single time has start === end). */
  start: number;
  end: number;
  /** The exact substring the span was read from. */
  text: string;
  /** Offset of `text` in the input. */
  index: number;
  /** True when two times were read as a range, false for a single time. */
  range: boolean;
}

export interface ParseTimesOptions {
  /** Video duration in seconds: times are clamped to [0, duration]; needed for time tokens. */
  duration?: number;
  /** `lita`: `<N>` (integer) is a paper-spelling time token `<1>…<T>`; otherwise `<N>` is seconds. */
  mode?: TimeTokenMode;
  /** Size of the LITA time vocabulary (100). */
  numTimeTokens?: number;
}

type AtomKind = 'token' | 'angle' | 'clock' | 'units' | 'bare';

interface Atom {
  kind: AtomKind;
  start: number;
  end: number;
  /** Seconds; for `bare`, the number before its unit is known. */
  value: number;
  /** `units` with a single component: its scale (1, 60, 3600), inherited by a bare range end. */
  scale?: number;
}

const NUM = String.raw`(?:\d+(?:\.\d+)?|\.\d+)`;
// Longer spellings first: alternation takes the first that fits.
const UNIT = String.raw`(?:hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)(?![a-z])`;
const ATOM = new RegExp(
  [
    String.raw`(?<tok><t(?<tokN>\d+)>)`,
    // LITA's own timestamp regex: \<(?:(?:\d*\.\d+)|(?:\d+\.?))\>
    String.raw`(?<angle><(?<angleN>\d*\.\d+|\d+\.?)>)`,
    String.raw`(?<clock>(?<![\w.:])(?<c1>\d{1,3}):(?<c2>[0-5]\d)(?::(?<c3>[0-5]\d))?(?:\.(?<cf>\d+))?(?![\d:]))`,
    String.raw`(?<units>(?<![\w.])${NUM}\s*${UNIT}(?:\s*${NUM}\s*${UNIT}){0,2})`,
    String.raw`(?<bare>(?<![\w.])${NUM}(?!\.?\w))`,
  ].join('|'),
  'gi',
);
const UNIT_PART = new RegExp(String.raw`(${NUM})\s*(${UNIT})`, 'giy');

function unitScale(unit: string): number {
  const u = unit[0]!.toLowerCase();
  return u === 'h' ? 3600 : u === 'm' ? 60 : 1;
}

/** Value and length of the longest run of number+unit parts with strictly shrinking units (1h 2m 3s). */
function readUnits(chunk: string): { value: number; length: number; scale?: number; parts: number } {
  UNIT_PART.lastIndex = 0;
  let value = 0, length = 0, parts = 0, last = Infinity, firstScale = 1;
  for (;;) {
    const at = UNIT_PART.lastIndex;
    const lead = /^\s*/.exec(chunk.slice(at))![0].length;
    UNIT_PART.lastIndex = at + lead;
    const m = UNIT_PART.exec(chunk);
    if (!m) break;
    const scale = unitScale(m[2]!);
    if (scale >= last) break;
    if (parts === 0) firstScale = scale;
    last = scale;
    value += Number(m[1]) * scale;
    length = UNIT_PART.lastIndex;
    parts++;
  }
  return parts === 1 ? { value, length, parts, scale: firstScale } : { value, length, parts };
}

function scanAtoms(text: string, opts: Required<Pick<ParseTimesOptions, 'mode' | 'numTimeTokens'>> & { duration?: number }): Atom[] {
  const atoms: Atom[] = [];
  ATOM.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = ATOM.exec(text))) {
    const g = m.groups!;
    const start = m.index;
    let end = start + m[0].length;
    if (g.tok !== undefined) {
      // A time token only means something relative to a duration.
      if (opts.duration === undefined) continue;
      atoms.push({ kind: 'token', start, end, value: litaIndexToSeconds(Number(g.tokN), opts.duration, opts.numTimeTokens) });
    } else if (g.angle !== undefined) {
      const n = g.angleN!;
      if (opts.mode === 'lita' && /^\d+$/.test(n)) {
        // Paper spelling <1>…<T>: token k is index k-1 of the released <t0>…<t99>.
        atoms.push({ kind: 'token', start, end, value: litaIndexToSeconds(Number(n) - 1, opts.duration as number, opts.numTimeTokens) });
      } else {
        atoms.push({ kind: 'angle', start, end, value: Number(n) });
      }
    } else if (g.clock !== undefined) {
      const frac = g.cf === undefined ? 0 : Number(`0.${g.cf}`);
      const value = g.c3 !== undefined
        ? Number(g.c1) * 3600 + Number(g.c2) * 60 + Number(g.c3) + frac
        : Number(g.c1) * 60 + Number(g.c2) + frac;
      atoms.push({ kind: 'clock', start, end, value });
    } else if (g.units !== undefined) {
      const u = readUnits(m[0]);
      end = start + u.length;
      ATOM.lastIndex = end;
      // "the 1990s" is a decade, not 1990 seconds.
      if (/^\d{3}0s$/i.test(m[0].slice(0, u.length))) continue;
      const atom: Atom = { kind: 'units', start, end, value: u.value };
      if (u.scale !== undefined) atom.scale = u.scale;
      atoms.push(atom);
    } else {
      atoms.push({ kind: 'bare', start, end, value: Number(m[0]) });
    }
  }
  return atoms;
}

const DASH = /^\s*[-–—~]\s*$/;
const WORD = /^\s*(?:to|until|till|through|thru)\s*$/i;
const AND = /^\s*and\s*$/i;
const COMMA = /^\s*,\s*$/;
const SPACE = /^\s*$/;
const PREFIX = /\b(from|between)\s*$/i;

/** If atoms a and b form a range, the text bounds of that range; otherwise null. */
function pairRange(text: string, a: Atom, b: Atom): { from: number; to: number } | null {
  const gap = text.slice(a.end, b.start);
  const prefix = PREFIX.exec(text.slice(0, a.start));
  const word = prefix?.[1]!.toLowerCase();
  const from = prefix ? prefix.index : a.start;
  const bracketOpen = /[[(]\s*$/.exec(text.slice(0, a.start));
  const bracketClose = /^\s*[\])]/.exec(text.slice(b.end));
  const bracketed = COMMA.test(gap) && bracketOpen !== null && bracketClose !== null;

  const timed = (x: Atom) => x.kind === 'token' || x.kind === 'angle';
  const bare = (a.kind === 'bare' ? 1 : 0) + (b.kind === 'bare' ? 1 : 0);
  if (bare === 1 && (timed(a) || timed(b))) return null;
  if (bracketed) return { from: bracketOpen.index, to: b.end + bracketClose[0].length };

  const linked = DASH.test(gap) || WORD.test(gap) || (word === 'between' && AND.test(gap));
  if (bare === 2) {
    // Two unit-less numbers are times only when the sentence says so ("from 12 to 35").
    const said = (word === 'from' && (WORD.test(gap) || DASH.test(gap))) || (word === 'between' && (AND.test(gap) || DASH.test(gap)));
    return said ? { from, to: b.end } : null;
  }
  if (linked) return { from, to: b.end };
  // LITA answers put start and end tokens side by side: "<t12> <t35>".
  if (timed(a) && timed(b) && SPACE.test(gap)) return { from, to: b.end };
  return null;
}

/**
 * Every time or time range in `text`, in order of appearance. A lone unit-less number is not a
 * time; in a range it takes the unit of the other end ("from 1 to 2 minutes") or seconds.
 */
export function parseTimes(text: string, opts: ParseTimesOptions = {}): TimeSpan[] {
  if (typeof text !== 'string') throw new VidlmError('ERR_INVALID_ARG', 'parseTimes: text must be a string');
  const mode = opts.mode ?? 'text';
  const numTimeTokens = opts.numTimeTokens ?? LITA_NUM_TIME_TOKENS;
  const { duration } = opts;
  if (duration !== undefined && !(Number.isFinite(duration) && duration > 0)) {
    throw new VidlmError('ERR_INVALID_ARG', `parseTimes: duration must be a positive number of seconds, got ${String(duration)}`);
  }
  if (mode === 'lita' && duration === undefined) throw new VidlmError('ERR_INVALID_ARG', 'parseTimes: mode "lita" needs the duration');
  if (!Number.isSafeInteger(numTimeTokens) || numTimeTokens < 2) {
    throw new VidlmError('ERR_INVALID_ARG', `parseTimes: numTimeTokens must be an integer >= 2, got ${String(numTimeTokens)}`);
  }
  const scanOpts = duration === undefined ? { mode, numTimeTokens } : { mode, numTimeTokens, duration };
  const atoms = scanAtoms(text, scanOpts);
  const clamp = (v: number) => (duration === undefined ? v : Math.min(Math.max(v, 0), duration));
  const spans: TimeSpan[] = [];
  for (let i = 0; i < atoms.length; i++) {
    const a = atoms[i]!;
    const b = atoms[i + 1];
    const r = b ? pairRange(text, a, b) : null;
    if (b && r) {
      const va = a.kind === 'bare' ? a.value * (b.scale ?? 1) : a.value;
      const vb = b.kind === 'bare' ? b.value * (a.scale ?? 1) : b.value;
      const [x, y] = [clamp(va), clamp(vb)];
      spans.push({ start: Math.min(x, y), end: Math.max(x, y), text: text.slice(r.from, r.to), index: r.from, range: true });
      i++;
    } else if (a.kind !== 'bare') {
      const v = clamp(a.value);
      spans.push({ start: v, end: v, text: text.slice(a.start, a.end), index: a.start, range: false });
    }
  }
  return spans;
}

/**
 * LITA's `parse_start_end_timestamps`: the first two times of the answer, clamped, as
 * [min, max]. With fewer than two, `strict` throws (LITA parses ground truth strictly) and
 * otherwise the whole video [0, duration] is the answer (how LITA scores a prediction).
 */
export function parseStartEnd(text: string, opts: ParseTimesOptions & { strict?: boolean } = {}): [number, number] {
  const times = parseTimes(text, opts).flatMap((s) => (s.range ? [s.start, s.end] : [s.start]));
  if (times.length >= 2) {
    const [a, b] = times as [number, number];
    return [Math.min(a, b), Math.max(a, b)];
  }
  if (opts.strict) throw new VidlmError('ERR_INVALID_ARG', `expected a start and an end time in ${JSON.stringify(text.slice(0, 200))}`);
  if (opts.duration === undefined) throw new VidlmError('ERR_INVALID_ARG', 'parseStartEnd: an answer without two times needs the duration to fall back to [0, duration]');
  return [0, opts.duration];
}
