/** Parsing of the CLI's flags that every command reads the same way. */
import { VidlmError } from './errors.js';

/** A numeric flag's value; undefined when absent, ERR_INVALID_ARG (with `option`) when not a number (or not in range). */
export function num(name: string, v: string | undefined, opts: { int?: boolean; min?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (opts.int && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min)) {
    throw new VidlmError('ERR_INVALID_ARG', `--${name} must be ${opts.int ? 'an integer' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''} (got ${JSON.stringify(v)})`, { option: name });
  }
  return n;
}
