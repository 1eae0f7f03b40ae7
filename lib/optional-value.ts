/**
 * Flags whose value is optional (`--audio [interleave|prefix]`, `--subtitles [LANG|FILE]`): node's
 * parseArgs has none, so a bare flag becomes `--flag=true` unless the next word is one of its
 * values (a positional video or question is never taken as one).
 */
export function optionalValues(args: string[], flags: Record<string, RegExp>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { out.push(...args.slice(i)); break; }
    const name = a.startsWith('--') ? a.slice(2) : '';
    const value = flags[name];
    if (!value) { out.push(a); continue; }
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith('-') && value.test(next)) { out.push(`--${name}=${next}`); i++; }
    else out.push(`--${name}=true`);
  }
  return out;
}
