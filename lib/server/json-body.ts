/**
 * The server's JSON body parser: small bodies parsed in place, large ones (a long text, a big data
 * URL) on a worker thread (json-worker.ts), so parsing them does not stall /health and the streams
 * of other requests. The body's bytes move to the worker without a copy.
 */
import { Worker } from 'node:worker_threads';
import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';

/** Bodies up to this size are parsed on the event loop (about a millisecond). */
const INLINE_BYTES = 256 * 1024;

const invalid = (message: string) => Object.assign(new Error(`invalid JSON body: ${message}`), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON' });

/** One parser thread, started on the first large body and unref'd (it never keeps the process alive). */
class JsonThread {
  #worker: Worker | null = null;
  #next = 0;
  #waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  parse(bytes: Buffer): Promise<unknown> {
    const w = (this.#worker ??= this.#start());
    const id = this.#next++;
    // the body's own memory when it owns it whole, else a copy
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : Buffer.from(bytes);
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      if (this.#waiting.size === 1) w.ref();
      w.postMessage({ id, bytes: own }, [own.buffer as ArrayBuffer]);
    });
  }

  #start(): Worker {
    const w = new Worker(new URL('./json-worker.js', import.meta.url));
    w.unref();
    w.on('message', ({ id, value, error }: { id: number; value?: unknown; error?: string }) => {
      const p = this.#waiting.get(id);
      this.#waiting.delete(id);
      if (this.#waiting.size === 0) w.unref();
      if (error !== undefined) p?.reject(invalid(error));
      else p?.resolve(value);
    });
    w.on('error', (e) => this.#fail(e));
    w.on('exit', () => this.#fail(new Error('the JSON parser thread exited')));
    return w;
  }

  #fail(e: Error): void {
    this.#worker = null;
    for (const p of this.#waiting.values()) p.reject(e);
    this.#waiting.clear();
  }

  close(): Promise<number> | undefined {
    const w = this.#worker;
    this.#worker = null;
    return w?.terminate();
  }
}

/** Replaces Fastify's application/json parser with one that parses large bodies off the event loop. */
export function parseJsonOffThread(app: FastifyInstance): { close(): Promise<unknown> } {
  const thread = new JsonThread();
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, async (_req: unknown, body: Buffer | string) => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    if (bytes.length === 0) throw Object.assign(new Error("the body is empty where JSON was announced"), { statusCode: 400, code: 'FST_ERR_CTP_EMPTY_JSON_BODY' });
    if (bytes.length <= INLINE_BYTES) {
      try {
        return sjson.parse(bytes.toString('utf8'), null, { protoAction: 'error', constructorAction: 'error' });
      } catch (e) {
        throw invalid((e as Error).message);
      }
    }
    return thread.parse(bytes);
  });
  return { close: async () => { await thread.close(); } };
}
