/**
 * `--subtitles [LANG|FILE]` for the CLI: node's parseArgs has no optional values, so a bare
 * `--subtitles` becomes `--subtitles=true` unless the next word is a language tag or a
 * subtitle file (a positional video or question is never taken as its value).
 */
import type { SubtitleSpec } from './load.js';

const VALUE = /^([a-z]{2,3}(-[a-zA-Z0-9]+)?|.+\.(srt|vtt|webvtt|ass|ssa))$/i;

export function normalizeSubtitleArgs(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { out.push(...args.slice(i)); break; }
    if (a !== '--subtitles') { out.push(a); continue; }
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith('-') && VALUE.test(next)) { out.push(`--subtitles=${next}`); i++; }
    else out.push('--subtitles=true');
  }
  return out;
}

export function subtitleOption(v: string | undefined): SubtitleSpec | undefined {
  if (v === undefined) return undefined;
  return v === 'true' ? true : v;
}
