/**
 * Remote media (--allow-remote): fetched with a size and time limit, redirects followed by hand (at
 * most 5), and every hop's address checked against the loopback, private, link-local, metadata and
 * other non-public ranges (IPv4, IPv6 and their mapped and embedded forms, by ipaddr.js) unless
 * --allow-private. An IP literal is checked here; a name is checked in the undici Agent's own DNS
 * lookup, whose answer is the address it connects to, so no second lookup can swap in another
 * address (DNS rebinding). Clients learn that a URL was refused, not the remote side's statuses,
 * ports or errors.
 *
 * RemoteBodies (below): downloaded media bodies kept with their validators (ETag, Last-Modified), so
 * a follow-up that names the same URL asks its server "changed since?" and, on 304 Not Modified,
 * reuses the bytes instead of downloading them again. Only bodies that came with a validator are
 * kept (without one, a conditional request is impossible). Bounded by bytes with lru-cache, as the
 * media memo is.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent, fetch } from 'undici';
import { badRequest, HttpError } from './errors.js';
import type { CheckedServerOptions } from './options.js';
import { LRUCache } from 'lru-cache';
import { bytesIdentity } from '../pipeline/read.js';

const MAX_REDIRECTS = 5;
const PRIVATE = 'VIDLM_PRIVATE_ADDRESS';

/** A public unicast address: not loopback, private, link-local, unique-local, CGNAT, reserved, multicast, NAT64/6to4/Teredo forms. */
export function isPublic(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/** An undici Agent that connects only to public addresses (unless private ones are allowed). */
export function remoteAgent(allowPrivate: boolean): Agent {
  const lookup = (hostname: string, options: object, cb: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return cb(err, []);
      if (!allowPrivate && addresses.some((a) => !isPublic(a.address))) return cb(Object.assign(new Error('a private address'), { code: PRIVATE }), []);
      if ((options as { all?: boolean }).all) return cb(null, addresses);
      cb(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
  return new Agent({ connect: { lookup: lookup as never } });
}

const refusedPrivate = (href: string, param: string) =>
  new HttpError(403, 'private_address', `${href} was refused: it leads to a loopback, private or link-local address`, { param });

/** How a server fetches remote media: its checked agent and the bodies it keeps for conditional requests. */
export interface RemoteClient {
  agent: Agent;
  bodies: RemoteBodies;
}

export function remoteClient(o: Pick<CheckedServerOptions, 'allowPrivateAddresses' | 'remoteCacheBytes'>): RemoteClient {
  return { agent: remoteAgent(o.allowPrivateAddresses), bodies: new RemoteBodies(o.remoteCacheBytes) };
}

/**
 * The bytes behind an http(s) URL, every hop checked. A URL fetched before with an ETag or a
 * Last-Modified is asked for conditionally; 304 Not Modified reuses the kept bytes (`downloaded` false).
 */
export async function fetchRemote(url: URL, o: CheckedServerOptions, remote: RemoteClient, signal: AbortSignal, param: string): Promise<RemoteBody & { downloaded: boolean }> {
  const { agent, bodies } = remote;
  const kept = bodies.get(url.href);
  if (!o.allowRemote) throw new HttpError(403, 'remote_media_disabled', 'http(s) media is fetched only when the server allows it (--allow-remote)', { param });
  const timeout = AbortSignal.timeout(o.remoteTimeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  let hop = url;
  try {
    for (let redirects = 0; ; redirects++) {
      const host = hop.hostname.replace(/^\[|\]$/g, '');
      if (ipaddr.isValid(host) && !o.allowPrivateAddresses && !isPublic(host)) throw refusedPrivate(url.href, param);
      const res = await fetch(hop, { dispatcher: agent, signal: both, redirect: 'manual', headers: RemoteBodies.conditional(kept) });
      if (res.status === 304 && kept) {
        await res.body?.cancel().catch(() => {});
        return { ...kept, downloaded: false };
      }
      const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
      if (location !== null) {
        await res.body?.cancel().catch(() => {});
        if (redirects >= MAX_REDIRECTS) throw badRequest('invalid_media', `${url.href} was refused: more than ${MAX_REDIRECTS} redirects`, param);
        let next: URL;
        try { next = new URL(location, hop); } catch { throw badRequest('invalid_media', `${url.href} was refused: a redirect to an invalid URL`, param); }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') throw badRequest('invalid_media', `${url.href} was refused: a redirect to a ${next.protocol} URL`, param);
        hop = next;
        continue;
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel().catch(() => {});
        throw badRequest('invalid_media', `${url.href} was refused by its server`, param);
      }
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (declared > o.maxMediaBytes) throw new HttpError(413, 'media_too_large', `${url.href} is more than ${o.maxMediaBytes} bytes (--max-media-mb)`, { param });
      const chunks: Uint8Array[] = [];
      let n = 0;
      for await (const chunk of res.body) {
        n += chunk.length;
        if (n > o.maxMediaBytes) throw new HttpError(413, 'media_too_large', `${url.href} is more than ${o.maxMediaBytes} bytes (--max-media-mb)`, { param });
        chunks.push(chunk);
      }
      return { ...bodies.put(url.href, Buffer.concat(chunks), res.headers), downloaded: true };
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (signal.aborted) throw e;
    const cause = (e as { cause?: { code?: string } }).cause;
    if (cause?.code === PRIVATE) throw refusedPrivate(url.href, param);
    if (timeout.aborted) throw badRequest('media_timeout', `fetching ${url.href} took longer than ${o.remoteTimeoutMs / 1000} s`, param);
    // no remote details (connection refused on which port, TLS errors): the URL could not be fetched
    throw badRequest('invalid_media', `${url.href} was refused: it could not be fetched`, param);
  }
}

export interface RemoteBody {
  bytes: Buffer;
  /** `sha1:<hex>` of the bytes: the media identity the pipeline's caches key on. */
  identity: string;
  etag?: string;
  lastModified?: string;
}

export class RemoteBodies {
  readonly #entries: LRUCache<string, RemoteBody> | null;

  /** `maxBytes` 0: nothing kept (every request downloads). */
  constructor(maxBytes: number) {
    this.#entries = maxBytes > 0 ? new LRUCache<string, RemoteBody>({ maxSize: maxBytes, sizeCalculation: (b) => Math.max(1, b.bytes.length) }) : null;
  }

  /** The kept body of a URL, if any (its validators go into the conditional request). */
  get(href: string): RemoteBody | undefined {
    return this.#entries?.get(href);
  }

  /** Keeps a fresh download when its server gave a validator; returns the body with its identity either way. */
  put(href: string, bytes: Buffer, headers: { get(name: string): string | null }): RemoteBody {
    const etag = headers.get('etag') ?? undefined, lastModified = headers.get('last-modified') ?? undefined;
    const body: RemoteBody = { bytes, identity: bytesIdentity(bytes), ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
    if (this.#entries && (etag || lastModified) && bytes.length <= (this.#entries.maxSize ?? 0)) this.#entries.set(href, body);
    else this.#entries?.delete(href);
    return body;
  }

  /** The request headers that ask whether the kept body changed. */
  static conditional(b: RemoteBody | undefined): Record<string, string> {
    if (!b) return {};
    return { ...(b.etag ? { 'if-none-match': b.etag } : {}), ...(b.lastModified ? { 'if-modified-since': b.lastModified } : {}) };
  }
}
