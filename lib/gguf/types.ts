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
  kv: Map<string, GgufKv>;
  tensors: GgufTensorInfo[];
}
