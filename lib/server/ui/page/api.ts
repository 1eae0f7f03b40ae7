/**
 * The page's side of the HTTP API: JSON calls with the API key the user gave, and a streamed chat
 * completion read from the SSE body as it comes. Every failure becomes an ApiError with the
 * server's code and message (an error event inside a stream too), so the page can show both.
 */

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly param: string | null = null, readonly vidlmCode: string | null = null) {
    super(message);
  }
}

let apiKey = sessionStorage.getItem('vidlm-key') ?? '';
export function setKey(k: string): void {
  apiKey = k;
  sessionStorage.setItem('vidlm-key', k);
}
const auth = (): Record<string, string> => (apiKey ? { authorization: `Bearer ${apiKey}` } : {});

interface ErrorBody { error?: { message?: string; code?: string | null; param?: string | null; vidlm_code?: string } }
function toError(status: number, body: unknown): ApiError {
  const e = (body as ErrorBody)?.error;
  return new ApiError(status, e?.code ?? `http_${status}`, e?.message ?? `HTTP ${status}`, e?.param ?? null, e?.vidlm_code ?? null);
}

export async function call<T>(path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = body === undefined
    ? { headers: auth(), signal }
    : { method: 'POST', headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify(body), signal };
  const r = await fetch(path, init);
  const text = await r.text();
  let json: unknown = null;
  try { json = JSON.parse(text); } catch { /* not JSON: the status says it */ }
  if (!r.ok) throw toError(r.status, json ?? { error: { message: text.slice(0, 300) } });
  return json as T;
}

/** A file of the media folder as the player's source: a plain URL, or a blob when a key is needed (a <video> sends no headers). */
export async function fileSource(path: string): Promise<string> {
  const url = `/ui/api/file?path=${encodeURIComponent(path)}`;
  if (!apiKey) return url;
  const r = await fetch(url, { headers: auth() });
  if (!r.ok) throw toError(r.status, await r.json().catch(() => null));
  return URL.createObjectURL(await r.blob());
}

export interface Frame { index: number; t: number }
export interface MediaReport { strategy: string; frames: Frame[]; duration: number; visual_tokens: number; encoded: number; cached: number; audio_chunks: number; subtitle_cues: number; warnings?: string[] }
export interface Completion {
  text: string;
  finish: string | null;
  usage: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details: { cached_tokens: number } } | null;
  vidlm: { media: MediaReport[]; timings: Record<string, number>; slot: number; kv_tokens: number } | null;
}

/** POST /v1/chat/completions with stream: true; `onPiece` gets each piece of the answer. */
export async function streamChat(body: object, onPiece: (piece: string) => void, signal?: AbortSignal): Promise<Completion> {
  const r = await fetch('/v1/chat/completions', {
    method: 'POST', signal,
    headers: { 'content-type': 'application/json', ...auth() },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  if (!r.ok || !r.body) throw toError(r.status, await r.json().catch(() => null));
  const out: Completion = { text: '', finish: null, usage: null, vidlm: null };
  await readEvents(r.body, (data) => {
    if (data === '[DONE]') return;
    const j = JSON.parse(data);
    if (j.error) throw toError(500, j);
    if (j.usage) out.usage = j.usage;
    if (j.vidlm) out.vidlm = j.vidlm;
    const choice = j.choices?.[0];
    if (choice?.finish_reason) out.finish = choice.finish_reason;
    const piece = choice?.delta?.content;
    if (piece) {
      out.text += piece;
      onPiece(piece);
    }
  });
  return out;
}

/** The data of each server-sent event of a response body, as it comes. */
async function readEvents(body: ReadableStream, onData: (data: string) => void): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
        if (data) onData(data);
      }
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined); // the server sees the client go
    throw e;
  }
}

/** POST a JSON body to an endpoint that answers with server-sent JSON events; `onItem` gets each one. */
export async function streamItems(path: string, body: object, onItem: (item: any) => void, signal?: AbortSignal): Promise<void> {
  const r = await fetch(path, { method: 'POST', signal, headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify(body) });
  if (!r.ok || !r.body) throw toError(r.status, await r.json().catch(() => null));
  await readEvents(r.body, (data) => {
    const j = JSON.parse(data);
    if (j.type === 'error') throw toError(500, j);
    onItem(j);
  });
}
