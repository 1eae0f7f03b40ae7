import { VidlmError } from '../errors.js';
import { GgufType, isGgufType } from './constants.js';
import type { ByteSink } from './byte-sink.js';
import type { GgufKv, GgufScalar } from './types.js';

type ScalarType = Exclude<GgufType, GgufType.ARRAY>;

const INT_RANGES: Partial<Record<GgufType, [number, number]>> = {
  [GgufType.UINT8]: [0, 0xff],
  [GgufType.INT8]: [-0x80, 0x7f],
  [GgufType.UINT16]: [0, 0xffff],
  [GgufType.INT16]: [-0x8000, 0x7fff],
  [GgufType.UINT32]: [0, 0xffffffff],
  [GgufType.INT32]: [-0x80000000, 0x7fffffff],
};

function bad(key: string, message: string): VidlmError {
  return new VidlmError('ERR_INVALID_ARG', `GGUF key '${key}': ${message}`, { key });
}

/** Throws ERR_INVALID_ARG unless `v` can be stored exactly as `type`: the writer never silently wraps or truncates. */
function checkScalar(key: string, type: ScalarType, v: unknown): void {
  const range = INT_RANGES[type];
  if (range) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1]) {
      throw bad(key, `${String(v)} is not a valid ${GgufType[type]}`);
    }
    return;
  }
  switch (type) {
    case GgufType.UINT64:
    case GgufType.INT64: {
      if (typeof v !== 'bigint' && !(typeof v === 'number' && Number.isSafeInteger(v))) {
        throw bad(key, `${String(v)} is not an integer for ${GgufType[type]}`);
      }
      const b = BigInt(v);
      const ok = type === GgufType.UINT64 ? b >= 0n && b < 1n << 64n : b >= -(1n << 63n) && b < 1n << 63n;
      if (!ok) throw bad(key, `${b} is out of range for ${GgufType[type]}`);
      return;
    }
    case GgufType.FLOAT32:
    case GgufType.FLOAT64:
      if (typeof v !== 'number') throw bad(key, `${String(v)} is not a number`);
      return;
    case GgufType.BOOL:
      if (typeof v !== 'boolean') throw bad(key, `${String(v)} is not a boolean`);
      return;
    case GgufType.STRING:
      if (typeof v !== 'string') throw bad(key, `${String(v)} is not a string`);
      return;
  }
}

function putScalar(s: ByteSink, type: ScalarType, v: GgufScalar): void {
  switch (type) {
    case GgufType.UINT8:
      return s.u8(v as number);
    case GgufType.INT8:
      return s.i8(v as number);
    case GgufType.UINT16:
      return s.u16(v as number);
    case GgufType.INT16:
      return s.i16(v as number);
    case GgufType.UINT32:
      return s.u32(v as number);
    case GgufType.INT32:
      return s.i32(v as number);
    case GgufType.FLOAT32:
      return s.f32(v as number);
    case GgufType.FLOAT64:
      return s.f64(v as number);
    case GgufType.BOOL:
      return s.i8(v ? 1 : 0);
    case GgufType.STRING:
      return s.string(v as string);
    case GgufType.UINT64:
      return s.u64(BigInt(v as bigint | number));
    case GgufType.INT64:
      return s.i64(BigInt(v as bigint | number));
  }
}

/** Validates a KV entry completely (so a failed add leaves the writer unchanged). */
export function checkKv(key: string, kv: GgufKv): void {
  if (kv.type === GgufType.ARRAY) {
    if (!isGgufType(kv.itemType) || (kv.itemType as GgufType) === GgufType.ARRAY) throw bad(key, `invalid array item type ${String(kv.itemType)}`);
    const items = kv.value as ArrayLike<unknown>;
    if (items === null || typeof items !== 'object' || typeof items.length !== 'number') throw bad(key, 'array value is not array-like');
    for (let i = 0; i < items.length; i++) checkScalar(key, kv.itemType, items[i]);
    return;
  }
  if (!isGgufType(kv.type)) throw bad(key, `invalid value type ${String(kv.type)}`);
  checkScalar(key, kv.type, kv.value);
}

/** Appends `key, type, value` in GGUF layout. */
export function encodeKv(s: ByteSink, key: string, kv: GgufKv): void {
  s.string(key);
  s.u32(kv.type);
  if (kv.type !== GgufType.ARRAY) return putScalar(s, kv.type, kv.value);
  const items = kv.value as ArrayLike<GgufScalar>;
  s.u32(kv.itemType);
  s.u64(BigInt(items.length));
  for (let i = 0; i < items.length; i++) putScalar(s, kv.itemType, items[i]!);
}
