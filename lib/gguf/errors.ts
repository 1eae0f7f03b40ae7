import { VidlmError } from '../errors.js';

/** Why a file was refused; stable strings that tests and callers may branch on. */
export type GgufFailReason =
  | 'bad-magic'
  | 'bad-version'
  | 'bad-count'
  | 'truncated'
  | 'bad-string'
  | 'bad-key'
  | 'duplicate-key'
  | 'bad-type'
  | 'bad-alignment'
  | 'bad-tensor-name'
  | 'duplicate-tensor'
  | 'bad-dims'
  | 'bad-tensor-type'
  | 'bad-offset'
  | 'trailing-data';

/** Every structural problem is ERR_NOT_GGUF: to a caller the file is simply not a loadable GGUF. */
export function notGguf(
  path: string,
  reason: GgufFailReason,
  message: string,
  offset: number,
  extra?: Record<string, unknown>,
): VidlmError {
  return new VidlmError('ERR_NOT_GGUF', `${path}: ${message}`, { path, reason, offset, ...extra });
}
