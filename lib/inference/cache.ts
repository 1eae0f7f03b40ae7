/**
 * Cache of encoded frames, so a second question about the same video encodes nothing again.
 * Keyed by (mmproj identity, source identity, how frames were made from it, frame time, frame size); in memory as an LRU
 * bounded in bytes, and optionally on disk (one file per frame under `dir`).
 */
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FrameGrid } from '../assembly/types.js';
import { ensureDir } from './cache-dir.js';

export interface EmbeddingCacheOptions {
  /** Memory budget in bytes (default 256 MiB). 0 keeps nothing in memory. */
  maxBytes?: number;
  /** Folder for an on-disk copy; none by default. */
  dir?: string;
}

export interface FrameKey {
  mmproj: string;
  source: string;
  /** Every sampling option that changes the pixels (fit, pad colour, scaler...): '' when the source is the pixels themselves. */
  variant: string;
  t: number;
  width: number;
  height: number;
  /** A merged frame pair (model.encode with `pairs`): the second frame's time. Absent for one frame. */
  t2?: number;
}

const MAGIC = 0x564c4d45; // 'VLME'

export class EmbeddingCache {
  readonly maxBytes: number;
  readonly dir?: string;
  #entries = new Map<string, FrameGrid>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(opts: EmbeddingCacheOptions = {}) {
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    this.dir = opts.dir;
  }

  static key(k: FrameKey): string {
    return createHash('sha256').update(JSON.stringify([k.mmproj, k.source, k.variant, k.t, k.width, k.height, ...(k.t2 === undefined ? [] : ['pair', k.t2])])).digest('hex').slice(0, 32);
  }

  get bytes(): number { return this.#bytes; }
  get size(): number { return this.#entries.size; }

  async get(key: string): Promise<FrameGrid | undefined> {
    const hit = this.#entries.get(key);
    if (hit) {
      this.#entries.delete(key); // re-insert: Map order is the LRU order
      this.#entries.set(key, hit);
      this.hits++;
      return hit;
    }
    if (this.dir) {
      const fromDisk = await this.#read(key);
      if (fromDisk) { this.hits++; this.#remember(key, fromDisk); return fromDisk; }
    }
    this.misses++;
    return undefined;
  }

  async set(key: string, grid: FrameGrid): Promise<void> {
    this.#remember(key, grid);
    if (this.dir) await this.#write(key, grid);
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #remember(key: string, grid: FrameGrid): void {
    const size = grid.data.byteLength;
    if (size > this.maxBytes) return;
    const old = this.#entries.get(key);
    if (old) { this.#bytes -= old.data.byteLength; this.#entries.delete(key); }
    this.#entries.set(key, grid);
    this.#bytes += size;
    for (const [k, v] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= v.data.byteLength;
    }
  }

  async #read(key: string): Promise<FrameGrid | undefined> {
    try {
      const buf = await readFile(join(this.dir!, `${key}.emb`));
      const head = new DataView(buf.buffer, buf.byteOffset, 32);
      if (head.getUint32(0, true) !== MAGIC) return undefined;
      const nx = head.getUint32(4, true), ny = head.getUint32(8, true), dim = head.getUint32(12, true);
      const t = head.getFloat64(16, true);
      const n = nx * ny * dim;
      if (buf.byteLength !== 32 + n * 4) return undefined;
      const data = new Float32Array(n);
      new Uint8Array(data.buffer).set(buf.subarray(32));
      return { t, nx, ny, dim, data };
    } catch {
      return undefined;
    }
  }

  async #write(key: string, g: FrameGrid): Promise<void> {
    await ensureDir(this.dir!);
    const head = Buffer.alloc(32);
    head.writeUInt32LE(MAGIC, 0);
    head.writeUInt32LE(g.nx, 4);
    head.writeUInt32LE(g.ny, 8);
    head.writeUInt32LE(g.dim, 12);
    head.writeDoubleLE(g.t, 16);
    const file = join(this.dir!, `${key}.emb`);
    const tmp = `${file}.${process.pid}.tmp`; // atomic: readers never see half a file
    await writeFile(tmp, Buffer.concat([head, Buffer.from(g.data.buffer, g.data.byteOffset, g.data.byteLength)]));
    await rename(tmp, file);
  }
}
