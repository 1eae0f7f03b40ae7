import type { GgufType } from './constants.js';

/** A scalar metadata value. 64-bit integers are bigint so no precision is lost. */
export type GgufScalar = number | bigint | boolean | string;

/**
 * Array payloads. Numeric arrays are typed arrays (a 150k-entry vocab stays compact);
 * bool and string arrays are plain arrays.
 */
export type GgufArrayValue =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array
  | boolean[]
  | string[];

export type GgufValue = GgufScalar | GgufArrayValue;

/** The exact on-disk type of a metadata value (JS values alone cannot tell u8 from i32). */
export type GgufValueType =
  | { type: Exclude<GgufType, GgufType.ARRAY> }
  | { type: GgufType.ARRAY; itemType: Exclude<GgufType, GgufType.ARRAY> };

/** One metadata entry with its exact on-disk type, so a copy round-trips byte for byte. */
export type GgufKv =
  | { type: Exclude<GgufType, GgufType.ARRAY>; value: GgufScalar }
  | { type: GgufType.ARRAY; itemType: Exclude<GgufType, GgufType.ARRAY>; value: GgufArrayValue };

export interface GgufTensorInfo {
  name: string;
  /** ggml type id (see GgmlType). */
  type: number;
  typeName: string;
  /** ggml order: dims[0] is the innermost (contiguous) dimension. */
  dims: number[];
  /** Offset from the start of the data section, as stored in the file. */
  offset: number;
  /** Absolute position of the first byte in the file. */
  fileOffset: number;
  nbytes: number;
}

export interface GgufSummary {
  path: string;
  version: number;
  fileSize: number;
  alignment: number;
  /** Absolute offset where the tensor data section starts. */
  dataOffset: number;
  /** Bytes of tensor data including inter-tensor padding. */
  dataSize: number;
  /** Metadata values in file order, arrays included (token lists stay as they are). */
  kv: Map<string, GgufValue>;
  /** On-disk type of each key of `kv`. */
  kvTypes: Map<string, GgufValueType>;
  tensors: GgufTensorInfo[];
}

/** The typed entry of `key` in a summary, ready for GgufWriter.addKv (e.g. to copy a tokenizer). */
export function summaryKv(summary: GgufSummary, key: string): GgufKv | undefined {
  const t = summary.kvTypes.get(key);
  const value = summary.kv.get(key);
  if (!t || value === undefined) return undefined;
  return { ...t, value } as GgufKv;
}
