import { GGUF_TYPE_SIZE, GgufType, isGgufType } from './constants.js';
import type { FileCursor } from './cursor.js';
import { notGguf } from './errors.js';
import type { GgufArrayValue, GgufKv, GgufScalar } from './types.js';

/** Same cap as ggml's GGUF_MAX_STRING_LENGTH. */
const MAX_STRING = 1024 * 1024 * 1024;
const SLICE = 1 << 16;
// ignoreBOM keeps a leading U+FEFF: it is a real token in SentencePiece vocabs, not a byte-order mark.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export type ScalarType = Exclude<GgufType, GgufType.ARRAY>;

/** Reads a u64 that must fit a JS number (lengths and counts); anything larger cannot fit the file anyway. */
export async function readLength(c: FileCursor, path: string, what: string): Promise<number> {
  const at = c.pos;
  await c.need(8, what);
  const n = c.u64();
  if (n > BigInt(c.size)) {
    throw notGguf(path, 'bad-count', `${what} is ${n}, larger than the whole file (${c.size} bytes)`, at, { value: n.toString() });
  }
  return Number(n);
}

export async function readString(c: FileCursor, path: string, what: string, strict = false): Promise<string> {
  const at = c.pos;
  const len = await readLength(c, path, `length of ${what}`);
  if (len > MAX_STRING) throw notGguf(path, 'bad-string', `${what} is ${len} bytes long (max ${MAX_STRING})`, at);
  await c.need(len, what);
  const bytes = c.bytes(len);
  if (!strict) return utf8.decode(bytes);
  try {
    return utf8Strict.decode(bytes);
  } catch {
    throw notGguf(path, 'bad-string', `${what} is not valid UTF-8`, at);
  }
}

type FixedType = Exclude<ScalarType, GgufType.STRING>;

async function readScalar(c: FileCursor, path: string, type: ScalarType, what: string): Promise<GgufScalar> {
  if (type === GgufType.STRING) return readString(c, path, what);
  await c.need(GGUF_TYPE_SIZE[type]!, what);
  return readFixed(c, type);
}

/** Decodes one fixed-size value; the caller has already made its bytes available. */
function readFixed(c: FileCursor, type: FixedType): GgufScalar {
  switch (type) {
    case GgufType.UINT8:
      return c.u8();
    case GgufType.INT8:
      return c.i8();
    case GgufType.UINT16:
      return c.u16();
    case GgufType.INT16:
      return c.i16();
    case GgufType.UINT32:
      return c.u32();
    case GgufType.INT32:
      return c.i32();
    case GgufType.FLOAT32:
      return c.f32();
    case GgufType.BOOL:
      return c.i8() !== 0; // ggml reads an int8 and treats any non-zero as true
    case GgufType.UINT64:
      return c.u64();
    case GgufType.INT64:
      return c.i64();
    case GgufType.FLOAT64:
      return c.f64();
  }
}

function allocArray(type: ScalarType, n: number): GgufArrayValue {
  switch (type) {
    case GgufType.UINT8:
      return new Uint8Array(n);
    case GgufType.INT8:
      return new Int8Array(n);
    case GgufType.UINT16:
      return new Uint16Array(n);
    case GgufType.INT16:
      return new Int16Array(n);
    case GgufType.UINT32:
      return new Uint32Array(n);
    case GgufType.INT32:
      return new Int32Array(n);
    case GgufType.FLOAT32:
      return new Float32Array(n);
    case GgufType.FLOAT64:
      return new Float64Array(n);
    case GgufType.UINT64:
      return new BigUint64Array(n);
    case GgufType.INT64:
      return new BigInt64Array(n);
    case GgufType.BOOL:
      return new Array<boolean>(n);
    case GgufType.STRING:
      return new Array<string>(n);
  }
}

async function readArray(c: FileCursor, path: string, key: string): Promise<GgufKv> {
  const at = c.pos;
  await c.need(4, `item type of array '${key}'`);
  const itemType = c.u32();
  if (!isGgufType(itemType) || itemType === GgufType.ARRAY) {
    // ggml has no nested arrays: it rejects them, so we do too.
    throw notGguf(path, 'bad-type', `array '${key}' has invalid item type ${itemType}`, at, { key });
  }
  const n = await readLength(c, path, `element count of array '${key}'`);
  // Each string costs at least its 8-byte length: bound the count before allocating anything.
  const minItem = itemType === GgufType.STRING ? 8 : GGUF_TYPE_SIZE[itemType]!;
  if (n * minItem > c.remaining) {
    throw notGguf(path, 'truncated', `array '${key}' claims ${n} items, more than the ${c.remaining} bytes left`, at, {
      key,
      count: n,
    });
  }
  const out = allocArray(itemType, n) as unknown as GgufScalar[];
  if (itemType === GgufType.STRING) {
    for (let i = 0; i < n; i++) out[i] = await readString(c, path, `item ${i} of array '${key}'`);
  } else {
    // Fixed-size items: fetch in slices so a big array costs one await per slice, not per item.
    const size = GGUF_TYPE_SIZE[itemType]!;
    const perSlice = Math.max(1, Math.floor(SLICE / size));
    for (let i = 0; i < n; ) {
      const k = Math.min(perSlice, n - i);
      await c.need(k * size, `items of array '${key}'`);
      for (const end = i + k; i < end; i++) out[i] = readFixed(c, itemType);
    }
  }
  return { type: GgufType.ARRAY, itemType, value: out as unknown as GgufArrayValue };
}

/** Reads one value of the given on-disk type (the type field itself already consumed). */
export async function readValue(c: FileCursor, path: string, type: number, key: string, typeAt: number): Promise<GgufKv> {
  if (type === GgufType.ARRAY) return readArray(c, path, key);
  if (!isGgufType(type)) throw notGguf(path, 'bad-type', `key '${key}' has invalid value type ${type}`, typeAt, { key });
  const scalarType = type as ScalarType; // ARRAY was handled above
  return { type: scalarType, value: await readScalar(c, path, scalarType, `value of '${key}'`) };
}
