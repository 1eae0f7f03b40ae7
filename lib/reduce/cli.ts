/** `--reduce off|auto|tokens=N|ratio=R|{json}` of ask, describe, localize, watch and serve (a server-wide default). */
import { VidlmError } from '../errors.js';
import { checkReduce, type ReduceOption } from './option.js';

export const reduceFlags = { reduce: { type: 'string' } } as const;

export const REDUCE_USAGE = '[--reduce off|auto|tokens=N|ratio=R]';

/** The flag's value as the `reduce` option, checked now (before a model is loaded). */
export function reduceFlag(v: string | undefined): ReduceOption | undefined {
  if (v === undefined) return undefined;
  let o: unknown = v;
  const m = /^(tokens|ratio)=(.+)$/.exec(v);
  if (m) o = { [m[1]!]: Number(m[2]) };
  else if (v.trim().startsWith('{')) {
    try { o = JSON.parse(v); } catch { throw new VidlmError('ERR_INVALID_ARG', `--reduce: ${JSON.stringify(v)} is not JSON`, { option: 'reduce' }); }
  }
  checkReduce(o, 'reduce');
  return o as ReduceOption;
}
