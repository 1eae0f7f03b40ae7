/** Growable little-endian byte buffer used to serialise the GGUF header. */
export class ByteSink {
  private buf = Buffer.alloc(4096);
  length = 0;

  /** Grows the buffer if needed. Call it before touching this.buf: it may replace the buffer. */
  private reserve(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.buf.length * 2, at + n));
      this.buf.copy(next, 0, 0, at);
      this.buf = next;
    }
    this.length += n;
    return at;
  }

  u8(v: number): void {
    const at = this.reserve(1);
    this.buf.writeUInt8(v, at);
  }
  i8(v: number): void {
    const at = this.reserve(1);
    this.buf.writeInt8(v, at);
  }
  u16(v: number): void {
    const at = this.reserve(2);
    this.buf.writeUInt16LE(v, at);
  }
  i16(v: number): void {
    const at = this.reserve(2);
    this.buf.writeInt16LE(v, at);
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.buf.writeUInt32LE(v, at);
  }
  i32(v: number): void {
    const at = this.reserve(4);
    this.buf.writeInt32LE(v, at);
  }
  f32(v: number): void {
    const at = this.reserve(4);
    this.buf.writeFloatLE(v, at);
  }
  f64(v: number): void {
    const at = this.reserve(8);
    this.buf.writeDoubleLE(v, at);
  }
  u64(v: bigint): void {
    const at = this.reserve(8);
    this.buf.writeBigUInt64LE(v, at);
  }
  i64(v: bigint): void {
    const at = this.reserve(8);
    this.buf.writeBigInt64LE(v, at);
  }
  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
  }
  /** GGUF string: u64 byte length, then UTF-8 bytes, no terminator. */
  string(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(BigInt(b.length));
    this.bytes(b);
  }
  zeros(n: number): void {
    this.reserve(n); // new space is already zeroed: Buffer.alloc zero-fills and length only grows
  }

  toBuffer(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}
