/** Growable little-endian byte buffer used to serialise the GGUF header. */
export class ByteSink {
  private buf = Buffer.alloc(4096);
  length = 0;

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
    this.buf.writeUInt8(v, this.reserve(1));
  }
  i8(v: number): void {
    this.buf.writeInt8(v, this.reserve(1));
  }
  u16(v: number): void {
    this.buf.writeUInt16LE(v, this.reserve(2));
  }
  i16(v: number): void {
    this.buf.writeInt16LE(v, this.reserve(2));
  }
  u32(v: number): void {
    this.buf.writeUInt32LE(v, this.reserve(4));
  }
  i32(v: number): void {
    this.buf.writeInt32LE(v, this.reserve(4));
  }
  f32(v: number): void {
    this.buf.writeFloatLE(v, this.reserve(4));
  }
  f64(v: number): void {
    this.buf.writeDoubleLE(v, this.reserve(8));
  }
  u64(v: bigint): void {
    this.buf.writeBigUInt64LE(v, this.reserve(8));
  }
  i64(v: bigint): void {
    this.buf.writeBigInt64LE(v, this.reserve(8));
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.reserve(b.length));
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
