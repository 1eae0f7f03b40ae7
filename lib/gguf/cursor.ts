import type { FileHandle } from 'node:fs/promises';
import { notGguf } from './errors.js';

const CHUNK = 1 << 20;

/**
 * Forward-only little-endian reader over a FileHandle that buffers a window of the file.
 * Every read is checked against the file size *before* anything is allocated, so a garbage
 * length field can never make it allocate or read past the end.
 */
export class FileCursor {
  pos = 0;
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly path: string,
  ) {}

  get remaining(): number {
    return this.size - this.pos;
  }

  /** Makes the next n bytes readable synchronously; `what` names the field for the error. */
  async need(n: number, what: string): Promise<void> {
    if (n > this.size - this.pos) {
      throw notGguf(
        this.path,
        'truncated',
        `${what} needs ${n} bytes at offset ${this.pos} but the file ends at ${this.size} (truncated or corrupt header)`,
        this.pos,
        { fileSize: this.size, needed: n, field: what },
      );
    }
    if (this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.buf.length) return;
    const len = Math.min(Math.max(n, CHUNK), this.size - this.pos);
    const b = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const { bytesRead } = await this.fh.read(b, got, len - got, this.pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < n) {
      // The file shrank between stat() and read(): same outcome as a truncated file.
      throw notGguf(this.path, 'truncated', `file ended early at offset ${this.pos + got} while reading ${what}`, this.pos + got, {
        fileSize: this.size,
      });
    }
    this.buf = b.subarray(0, got);
    this.bufStart = this.pos;
  }

  private at(n: number): number {
    const i = this.pos - this.bufStart;
    this.pos += n;
    return i;
  }

  u8(): number {
    return this.buf.readUInt8(this.at(1));
  }
  i8(): number {
    return this.buf.readInt8(this.at(1));
  }
  u16(): number {
    return this.buf.readUInt16LE(this.at(2));
  }
  i16(): number {
    return this.buf.readInt16LE(this.at(2));
  }
  u32(): number {
    return this.buf.readUInt32LE(this.at(4));
  }
  i32(): number {
    return this.buf.readInt32LE(this.at(4));
  }
  f32(): number {
    return this.buf.readFloatLE(this.at(4));
  }
  f64(): number {
    return this.buf.readDoubleLE(this.at(8));
  }
  u64(): bigint {
    return this.buf.readBigUInt64LE(this.at(8));
  }
  i64(): bigint {
    return this.buf.readBigInt64LE(this.at(8));
  }
  /** A view (not a copy) of the next n bytes; valid until the next need(). */
  bytes(n: number): Buffer {
    const i = this.at(n);
    return this.buf.subarray(i, i + n);
  }

  /** Moves forward without reading, e.g. over alignment padding. */
  skipTo(offset: number): void {
    this.pos = offset;
  }
}
