/**
 * Downloaded media bodies kept with their validators (ETag, Last-Modified), so a follow-up that
 * names the same URL asks its server "changed since?" and, on 304 Not Modified, reuses the bytes
 * instead of downloading them again. Only bodies that came with a validator are kept (without
 * one, a conditional request is impossible). Bounded by bytes with lru-cache, as the media memo is.
 */
import { LRUCache } from 'lru-cache';
import { bytesIdentity } from '../pipeline/media-memo.js';

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
