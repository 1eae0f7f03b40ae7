/**
 * Every failure vidlm reports is a VidlmError with a stable `code`, so callers can branch on
 * `err.code` instead of parsing messages. Codes are part of the public API: never rename one.
 */
export type VidlmErrorCode =
  | 'ERR_INVALID_ARG'
  | 'ERR_FILE_NOT_FOUND'
  | 'ERR_NOT_GGUF'
  | 'ERR_MODEL_LOAD'
  | 'ERR_MMPROJ_LOAD'
  | 'ERR_MMPROJ_MISMATCH'
  | 'ERR_ABORTED'
  | 'ERR_DISPOSED'
  | 'ERR_NATIVE_LOAD'
  | 'ERR_VIDEO_OPEN'
  | 'ERR_VIDEO_NO_STREAM'
  | 'ERR_VIDEO_DECODE'
  | 'ERR_VIDEO_EMPTY'
  | 'ERR_VIDEO_TIMEOUT'
  | 'ERR_VIDEO_TOO_LARGE'
  | 'ERR_ENCODE'
  | 'ERR_CONTEXT_FULL'
  | 'ERR_CONTEXT_CREATE'
  | 'ERR_INVALID_STATE'
  | 'ERR_DECODE'
  | 'ERR_TOKENIZE'
  | 'ERR_TEMPLATE'
  | 'ERR_GRAMMAR'
  | 'ERR_CALLBACK'
  | 'ERR_UNSUPPORTED'
  | 'ERR_QUEUE_CONNECT'
  | 'ERR_OUTPUT';

export class VidlmError extends Error {
  readonly code: VidlmErrorCode;
  /** Structured facts about the failure (sizes, paths, counts) for programs to read. */
  readonly details?: Record<string, unknown>;

  constructor(code: VidlmErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VidlmError';
    this.code = code;
    if (details) this.details = details;
  }
}

export function isVidlmError(e: unknown, code?: VidlmErrorCode): e is VidlmError {
  return e instanceof VidlmError && (code === undefined || e.code === code);
}

/** The error every cancelled call rejects with. */
export function abortError(signal?: AbortSignal): VidlmError {
  const reason = signal?.reason;
  const why = reason instanceof Error ? reason.message : reason !== undefined ? String(reason) : 'the operation was aborted';
  return new VidlmError('ERR_ABORTED', `aborted: ${why}`, undefined, { cause: reason });
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}
