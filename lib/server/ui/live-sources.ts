/**
 * The live sources a server may watch: named by the operator (`live: { name: url }`, the CLI's
 * `--live name=url`), never by a client, which picks a name. A client that could name a URL
 * could make FFmpeg open any socket or file (issue #29); the names are all it sees.
 */
import { VidlmError } from '../../errors.js';

export interface CheckedLive {
  /** name → the operator's URL (or path); never sent to clients. */
  live: Map<string, string>;
  /** Live watches that may run at once (each holds its own context). */
  liveWatches: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkLiveOptions(live: unknown, liveWatches: unknown): CheckedLive {
  const map = new Map<string, string>();
  if (live !== undefined) {
    if (!live || typeof live !== 'object' || Array.isArray(live)) throw new VidlmError('ERR_INVALID_ARG', 'live must be an object of { name: url }', { option: 'live' });
    for (const [name, url] of Object.entries(live)) {
      if (!NAME.test(name)) throw new VidlmError('ERR_INVALID_ARG', `live source name ${JSON.stringify(name)} must be 1-64 letters, digits, '.', '_' or '-'`, { option: 'live' });
      if (typeof url !== 'string' || url.trim() === '') throw new VidlmError('ERR_INVALID_ARG', `live source ${name} needs a URL`, { option: 'live' });
      map.set(name, url);
    }
  }
  let n = 1;
  if (liveWatches !== undefined) {
    if (typeof liveWatches !== 'number' || !Number.isInteger(liveWatches) || liveWatches < 1 || liveWatches > 64) {
      throw new VidlmError('ERR_INVALID_ARG', `liveWatches must be an integer from 1 to 64 (got ${JSON.stringify(liveWatches)})`, { option: 'liveWatches' });
    }
    n = liveWatches;
  }
  return { live: map, liveWatches: n };
}

/** `--live name=url` (repeatable) as createServer's `live` option. */
export function parseLiveFlags(flags: readonly string[] | undefined): Record<string, string> | undefined {
  if (!flags || flags.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new VidlmError('ERR_INVALID_ARG', `--live takes name=url (got ${JSON.stringify(f)})`, { option: 'live' });
    const name = f.slice(0, eq);
    if (name in out) throw new VidlmError('ERR_INVALID_ARG', `--live ${name} is given twice`, { option: 'live' });
    out[name] = f.slice(eq + 1);
  }
  return out;
}
