import { open, rename, rm } from 'node:fs/promises';
import { VidlmError } from '../errors.js';
import {
  GGML_MAX_DIMS,
  GGML_MAX_NAME,
  GGML_TYPE_TRAITS,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_KEY_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_WRITE_VERSION,
  GgmlType,
  GgufType,
  alignUp,
  tensorNbytes,
} from './constants.js';
import { ByteSink } from './byte-sink.js';
import { checkKv, encodeKv } from './encode-values.js';
import { f32ToF16Bits } from './f16.js';
import type { GgufArrayValue, GgufKv, GgufScalar } from './types.js';

export interface GgufWriterOptions {
  /** Data alignment; written as `general.alignment` when not the default 32. */
  alignment?: number;
}

interface PendingTensor {
  name: string;
  dims: number[];
  type: number;
  bytes: Uint8Array;
}

type ScalarType = Exclude<GgufType, GgufType.ARRAY>;

function invalid(message: string, details?: Record<string, unknown>): VidlmError {
  return new VidlmError('ERR_INVALID_ARG', message, details);
}

function checkDims(name: string, dims: readonly number[]): void {
  if (!Array.isArray(dims) || dims.length < 1 || dims.length > GGML_MAX_DIMS || !dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw invalid(`tensor '${name}': dims must be 1..${GGML_MAX_DIMS} non-negative integers, got [${String(dims)}]`, { tensor: name });
  }
}

/**
 * Builds a GGUF v3 file in memory (metadata in insertion order, tensors in insertion order)
 * and writes it with the layout ggml expects: header, KV pairs, tensor infos, padding to the
 * alignment, then each tensor's data padded to the alignment.
 *
 * Dims are given in ggml order (dims[0] innermost): a PyTorch weight of shape [out, in] is [in, out].
 */
export class GgufWriter {
  readonly alignment: number;
  private readonly kv = new Map<string, GgufKv>();
  private readonly tensors: PendingTensor[] = [];

  constructor(options: GgufWriterOptions = {}) {
    const a = options.alignment ?? GGUF_DEFAULT_ALIGNMENT;
    if (!Number.isInteger(a) || a <= 0 || a > 0xffffffff || (a & (a - 1)) !== 0) {
      throw invalid(`alignment must be a power of 2, got ${a}`);
    }
    this.alignment = a;
    if (a !== GGUF_DEFAULT_ALIGNMENT) this.kv.set(GGUF_KEY_ALIGNMENT, { type: GgufType.UINT32, value: a });
  }

  get kvCount(): number {
    return this.kv.size;
  }
  get tensorCount(): number {
    return this.tensors.length;
  }

  /** Adds any entry, e.g. one copied from validateGguf()'s summary. */
  addKv(key: string, kv: GgufKv): this {
    if (typeof key !== 'string' || key.length === 0) throw invalid('GGUF key must be a non-empty string');
    if (this.kv.has(key)) throw invalid(`duplicate GGUF key '${key}'`, { key });
    if (key === GGUF_KEY_ALIGNMENT && !(kv.type === GgufType.UINT32 && kv.value === this.alignment)) {
      throw invalid(`'${GGUF_KEY_ALIGNMENT}' is set through the constructor option`, { key });
    }
    checkKv(key, kv);
    this.kv.set(key, kv);
    return this;
  }

  private scalar(key: string, type: ScalarType, value: GgufScalar): this {
    return this.addKv(key, { type, value });
  }
  addUint8(key: string, v: number): this {
    return this.scalar(key, GgufType.UINT8, v);
  }
  addInt8(key: string, v: number): this {
    return this.scalar(key, GgufType.INT8, v);
  }
  addUint16(key: string, v: number): this {
    return this.scalar(key, GgufType.UINT16, v);
  }
  addInt16(key: string, v: number): this {
    return this.scalar(key, GgufType.INT16, v);
  }
  addUint32(key: string, v: number): this {
    return this.scalar(key, GgufType.UINT32, v);
  }
  addInt32(key: string, v: number): this {
    return this.scalar(key, GgufType.INT32, v);
  }
  addUint64(key: string, v: bigint | number): this {
    return this.scalar(key, GgufType.UINT64, v);
  }
  addInt64(key: string, v: bigint | number): this {
    return this.scalar(key, GgufType.INT64, v);
  }
  addFloat32(key: string, v: number): this {
    return this.scalar(key, GgufType.FLOAT32, v);
  }
  addFloat64(key: string, v: number): this {
    return this.scalar(key, GgufType.FLOAT64, v);
  }
  addBool(key: string, v: boolean): this {
    return this.scalar(key, GgufType.BOOL, v);
  }
  addString(key: string, v: string): this {
    return this.scalar(key, GgufType.STRING, v);
  }
  addArray(key: string, itemType: ScalarType, values: GgufArrayValue | readonly GgufScalar[]): this {
    return this.addKv(key, { type: GgufType.ARRAY, itemType, value: values as GgufArrayValue });
  }

  /** Adds a float tensor, stored as F32 or converted to F16 (round to nearest, ties to even). */
  addTensor(name: string, dims: readonly number[], data: ArrayLike<number>, type: GgmlType.F32 | GgmlType.F16 = GgmlType.F32): this {
    if (type !== GgmlType.F32 && type !== GgmlType.F16) throw invalid(`addTensor supports F32 and F16, got type ${String(type)}`);
    checkDims(name, dims);
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) {
      throw invalid(`tensor '${name}': ${data.length} values for shape [${dims.join(', ')}] (${n} elements)`, { tensor: name });
    }
    const bytes = new Uint8Array(n * (type === GgmlType.F32 ? 4 : 2));
    const view = new DataView(bytes.buffer);
    if (type === GgmlType.F32) for (let i = 0; i < n; i++) view.setFloat32(i * 4, data[i]!, true);
    else for (let i = 0; i < n; i++) view.setUint16(i * 2, f32ToF16Bits(data[i]!), true);
    return this.addTensorBytes(name, dims, type, bytes);
  }

  /** Adds a tensor whose data is already encoded in `type`'s on-disk layout (any ggml type). */
  addTensorBytes(name: string, dims: readonly number[], type: number, bytes: Uint8Array): this {
    const nameBytes = typeof name === 'string' ? Buffer.byteLength(name) : 0;
    if (nameBytes === 0 || nameBytes >= GGML_MAX_NAME) throw invalid(`tensor name must be 1..${GGML_MAX_NAME - 1} bytes: '${name}'`, { tensor: name });
    if (this.tensors.some((t) => t.name === name)) throw invalid(`duplicate tensor '${name}'`, { tensor: name });
    checkDims(name, dims);
    if (!GGML_TYPE_TRAITS.has(type)) throw invalid(`tensor '${name}': unknown ggml type ${type}`, { tensor: name });
    const nbytes = tensorNbytes(type, dims);
    if (nbytes === undefined || nbytes !== bytes.length) {
      throw invalid(`tensor '${name}': ${bytes.length} bytes of data, shape [${dims.join(', ')}] needs ${nbytes ?? 'a valid row size'}`, {
        tensor: name,
      });
    }
    this.tensors.push({ name, dims: [...dims], type, bytes });
    return this;
  }

  /** Header, metadata, tensor infos and padding up to the start of the data section. */
  private header(): Buffer {
    const s = new ByteSink();
    s.u32(GGUF_MAGIC);
    s.u32(GGUF_WRITE_VERSION);
    s.u64(BigInt(this.tensors.length));
    s.u64(BigInt(this.kv.size));
    for (const [key, kv] of this.kv) encodeKv(s, key, kv);
    let offset = 0;
    for (const t of this.tensors) {
      s.string(t.name);
      s.u32(t.dims.length);
      for (const d of t.dims) s.u64(BigInt(d));
      s.u32(t.type);
      s.u64(BigInt(offset));
      offset += alignUp(t.bytes.length, this.alignment);
    }
    s.zeros(alignUp(s.length, this.alignment) - s.length);
    return s.toBuffer();
  }

  /** The parts of the file in order; tensor padding is a shared zero buffer. */
  private *chunks(): Generator<Uint8Array> {
    yield this.header();
    const zeros = new Uint8Array(this.alignment);
    for (const t of this.tensors) {
      yield t.bytes;
      const pad = alignUp(t.bytes.length, this.alignment) - t.bytes.length;
      if (pad > 0) yield zeros.subarray(0, pad);
    }
  }

  toBuffer(): Buffer {
    return Buffer.concat([...this.chunks()]);
  }

  /** Writes to `path` through a temporary file and a rename, so readers never see a half-written file. */
  async write(path: string): Promise<void> {
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      for (const chunk of this.chunks()) {
        let done = 0;
        while (done < chunk.length) done += (await fh.write(chunk, done, chunk.length - done)).bytesWritten;
      }
      await fh.close();
      await rename(tmp, path);
    } catch (e) {
      await fh.close().catch(() => {});
      await rm(tmp, { force: true });
      throw e;
    }
  }
}
