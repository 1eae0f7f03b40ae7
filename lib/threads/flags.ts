/** The CLI's thread flags (ask, localize, describe, watch, serve, batch, worker): --threads N|auto and --poll N|auto. */
import { VidlmError } from '../errors.js';

export const threadFlags = {
  threads: { type: 'string', short: 't' },
  poll: { type: 'string' },
} as const;

export const threadUsage = '[--threads N|auto] [--poll 0-100|auto]';

function flag(name: string, v: string | undefined, max: number, min: number): number | 'auto' | undefined {
  if (v === undefined || v === 'auto') return v;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new VidlmError('ERR_INVALID_ARG', `--${name} must be an integer from ${min} to ${max} or auto (got ${JSON.stringify(v)})`, { option: name });
  }
  return n;
}

/** loadModel's `threads` and `poll` from the flags; absent flags stay absent (the policy). */
export function threadValues(v: { threads?: string; poll?: string }): { threads?: number | 'auto'; poll?: number | 'auto' } {
  const threads = flag('threads', v.threads, 1024, 1), poll = flag('poll', v.poll, 100, 0);
  return { ...(threads === undefined ? {} : { threads }), ...(poll === undefined ? {} : { poll }) };
}
