/**
 * The error of a results file that cannot be written. A path that names nothing usable (a
 * missing folder, a folder) is the caller's mistake, ERR_INVALID_ARG; everything else — a full
 * or read-only filesystem, an I/O error, no permission, a device — is ERR_OUTPUT, which stops
 * the batch with what was already written kept.
 */
import { VidlmError } from '../errors.js';

const PATH_MISTAKES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'ELOOP']);

export function outputError(what: string, path: string, e: unknown): VidlmError {
  if (e instanceof VidlmError) return e;
  const errno = (e as NodeJS.ErrnoException | null)?.code;
  const code = errno !== undefined && PATH_MISTAKES.has(errno) ? 'ERR_INVALID_ARG' : 'ERR_OUTPUT';
  return new VidlmError(code, `${what}: ${(e as Error)?.message ?? String(e)}`, { path, ...(errno ? { errno } : {}) }, { cause: e });
}
