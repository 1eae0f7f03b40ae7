/**
 * What keeps slow or greedy clients from holding the server: a request's body must arrive within
 * a deadline and at a minimum rate (a body that trickles a byte every few seconds is cut off with
 * 408 and its connection closed), request bodies in flight have their own bounded pool (a request
 * takes a place in the slot queue only once its body is complete), and each client address (an
 * IPv6 client by its /64) holds at most so many connections at once.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import ipaddr from 'ipaddr.js';
import { HttpError } from './errors.js';

export interface BodyLimits {
  /** The whole body must have arrived this many ms after the headers. */
  deadlineMs: number;
  /** Bytes per second, on average, from `graceMs` after the headers on. */
  minRate: number;
  graceMs: number;
}

/** 408 with a closed connection: the client gets its answer and its socket back to no one. */
function bodyTimeout(message: string): HttpError {
  return Object.assign(new HttpError(408, 'body_timeout', message, { headers: { connection: 'close' } }), { statusCode: 408 });
}

/**
 * The request body as a stream that fails (408) when it runs past its deadline or falls below the
 * minimum rate; Fastify's body reader then answers the error (preParsing hook).
 */
export function guardBody(payload: Readable, l: BodyLimits): Readable {
  const start = performance.now();
  let received = 0;
  const check = () => {
    const elapsed = performance.now() - start;
    if (elapsed > l.deadlineMs) return bodyTimeout(`the request body did not arrive within ${(l.deadlineMs / 1000).toFixed(0)} s`);
    if (elapsed > l.graceMs && received < (l.minRate * (elapsed - l.graceMs)) / 1000) {
      return bodyTimeout(`the request body arrives slower than ${l.minRate} bytes/s`);
    }
    return null;
  };
  const guarded = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      received += chunk.length;
      cb(null, chunk);
    },
  });
  const timer = setInterval(() => {
    const e = payload.readableEnded || guarded.destroyed ? null : check();
    if (e) {
      clearInterval(timer);
      // the 408 goes out with `connection: close`, which ends the socket after it
      payload.unpipe(guarded);
      guarded.destroy(e);
    }
  }, Math.max(10, Math.min(1000, l.deadlineMs, l.graceMs || 1000)));
  timer.unref();
  // the deadline is the body's: once it is complete (or gone), nothing is checked any more
  const stop = () => clearInterval(timer);
  payload.once('end', stop);
  payload.once('close', stop);
  guarded.once('end', stop);
  guarded.once('close', stop);
  payload.once('error', (e) => guarded.destroy(e));
  guarded.on('error', () => {}); // Fastify's body reader has its own listener while it reads; after that an error has no one to tell
  payload.pipe(guarded);
  return guarded;
}

/** A bounded count of places (request bodies in flight); take() throws 503 past it. */
export class Places {
  #used = 0;
  constructor(readonly max: number, readonly what: string) {}
  get used(): number { return this.#used; }
  /** Takes a place; the returned function gives it back (once, however often it is called). */
  take(): () => void {
    if (this.#used >= this.max) {
      throw new HttpError(503, 'server_busy', `${this.max} ${this.what} are in flight: try again shortly`, { headers: { 'retry-after': '1' } });
    }
    this.#used++;
    let given = false;
    return () => { if (!given) { given = true; this.#used--; } };
  }
}

/** The address a client is counted by: an IPv4 address, or an IPv6 client's /64 (one host usually has all of it). */
export function clientKey(address: string | undefined): string {
  if (!address || !ipaddr.isValid(address)) return address ?? '?';
  const a = ipaddr.process(address);
  if (a.kind() === 'ipv4') return a.toString();
  return `${(a as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16)).join(':')}::/64`;
}

/**
 * At most `max` open connections per client address: one past it is answered 429 and closed before
 * any request on it is read.
 */
export function capConnections(server: Server, max: number): { open(key: string): number } {
  const open = new Map<string, number>();
  // ahead of the HTTP server's own listener, so a refused socket is answered before any request on it is parsed
  server.prependListener('connection', (socket: Socket) => {
    const key = clientKey(socket.remoteAddress);
    const n = (open.get(key) ?? 0) + 1;
    if (n > max) {
      const body = JSON.stringify({ error: { message: `more than ${max} connections from ${key}`, type: 'server_busy', code: 'too_many_connections', param: null } });
      socket.pause();
      socket.end(`HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nRetry-After: 1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => socket.destroy());
      return;
    }
    open.set(key, n);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key);
      else open.set(key, left);
    });
  });
  return { open: (key) => open.get(key) ?? 0 };
}
