/**
 * Errors in the OpenAI shape, `{ error: { message, type, code, param } }`, with the HTTP status
 * each vidlm code maps to. `code` is OpenAI's where one exists (context_length_exceeded,
 * invalid_api_key) and otherwise names the vidlm cause, so clients can branch on it.
 */
import { VidlmError, type VidlmErrorCode } from '../errors.js';

export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null; vidlm_code?: string };
}

/** An error the server answers with: status, OpenAI type and code. */
export class HttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string;
  readonly param: string | null;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, opts: { param?: string | null; type?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = opts.param ?? null;
    this.type = opts.type ?? (status === 401 ? 'authentication_error' : status === 429 || status === 503 ? 'server_busy' : status >= 500 ? 'server_error' : 'invalid_request_error');
    this.headers = opts.headers ?? {};
  }
}

/** 503 while the server closes: new requests, queued ones, and any admitted before close() whose body came after. */
export const shuttingDown = () => new HttpError(503, 'server_shutting_down', 'the server is shutting down');

export const badRequest = (code: string, message: string, param: string | null = null) => new HttpError(400, code, message, { param });

/** Status and OpenAI code of each vidlm code (ERR_VIDEO_* are the caller's media: 400 invalid_media). */
function mapVidlm(code: VidlmErrorCode): [number, string] {
  if (code.startsWith('ERR_VIDEO_')) return [400, 'invalid_media'];
  switch (code) {
    case 'ERR_CONTEXT_FULL': return [400, 'context_length_exceeded'];
    case 'ERR_INVALID_ARG': return [400, 'invalid_value'];
    case 'ERR_GRAMMAR': return [400, 'invalid_response_format'];
    case 'ERR_UNSUPPORTED': return [400, 'unsupported_value'];
    case 'ERR_FILE_NOT_FOUND': return [400, 'invalid_media'];
    case 'ERR_TOKENIZE': return [400, 'invalid_value'];
    case 'ERR_ABORTED': return [408, 'request_aborted'];
    case 'ERR_DISPOSED': return [503, 'server_shutting_down'];
    default: return [500, 'internal_error'];
  }
}

/** Any thrown value as a status and an OpenAI error body. */
export function toOpenAIError(e: unknown): { status: number; body: OpenAIErrorBody; headers: Record<string, string> } {
  if (e instanceof HttpError) {
    return { status: e.status, headers: e.headers, body: { error: { message: e.message, type: e.type, code: e.code, param: e.param } } };
  }
  if (e instanceof VidlmError) {
    const [status, code] = mapVidlm(e.code);
    const param = typeof e.details?.option === 'string' ? e.details.option : null;
    const type = status >= 500 ? 'server_error' : 'invalid_request_error';
    return { status, headers: {}, body: { error: { message: e.message, type, code, param, vidlm_code: e.code } } };
  }
  // Fastify's own errors: body validation, bad JSON, body too large
  const fe = e as { statusCode?: number; code?: string; message?: string; validation?: { instancePath?: string; params?: { missingProperty?: string } }[] };
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const v = fe.validation?.[0];
    const param = v ? (v.instancePath || '').replace(/^\//, '').replaceAll('/', '.') + (v.params?.missingProperty ? (v.instancePath ? '.' : '') + v.params.missingProperty : '') : null;
    const code = fe.validation ? 'invalid_value' : fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'request_too_large' : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'invalid_content_type' : 'invalid_json';
    return { status: fe.statusCode, headers: {}, body: { error: { message: fe.message ?? 'bad request', type: 'invalid_request_error', code, param: param || null } } };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { status: 500, headers: {}, body: { error: { message, type: 'server_error', code: 'internal_error', param: null } } };
}
