/**
 * Which failures a worker retries. A coded input error (a video that cannot be opened or
 * decoded, a plan that does not fit the context, a bad option) fails the same way on every
 * machine, so it is not retried; a stall, a timeout or an uncoded error may not recur.
 * A failed job's reason is `CODE: message`, which the collector turns back into an error line.
 */
import { UnrecoverableError } from 'bullmq';
import { codeOf, type ResultLine } from '../result.js';

/** Codes worth another attempt (ERR_VIDEO_TIMEOUT: a URL that stalled may answer next time). */
const RETRYABLE = new Set(['ERR_VIDEO_TIMEOUT', 'ERR_DECODE', 'ERR_ENCODE', 'ERR_ABORTED', 'ERR_DISPOSED', 'ERR_JOB']);

export const isRetryable = (code: string): boolean => RETRYABLE.has(code);

/** The error a job processor throws for `e`: UnrecoverableError when retrying cannot help. */
export function jobFailure(e: unknown): Error {
  const code = codeOf(e);
  const reason = `${code}: ${e instanceof Error ? e.message : String(e)}`;
  return isRetryable(code) ? new Error(reason) : new UnrecoverableError(reason);
}

/** The error line of a job that failed for good. */
export function failedLine(id: string, failedReason: string | undefined): ResultLine {
  const m = /^(ERR_[A-Z0-9_]+): ([\s\S]*)$/.exec(failedReason ?? '');
  return { id, error: m ? { code: m[1]!, message: m[2]! } : { code: 'ERR_JOB', message: failedReason || 'the job failed' } };
}
