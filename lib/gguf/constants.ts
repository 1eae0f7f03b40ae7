/**
 * GGUF format constants, mirrored from vendor/llama.cpp/ggml/include/gguf.h and ggml.h.
 * They are part of the on-disk format, so they never change for an existing value.
 */

/** "GGUF" read as a little-endian uint32. */
export const GGUF_MAGIC = 0x46554747;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** Versions llama.cpp reads: v1 was dropped upstream, v3 is what everything writes today. */
export const GGUF_SUPPORTED_VERSIONS: readonly number[] = [2, 3];
export const GGUF_WRITE_VERSION = 3;
/** ggml keeps tensor names in a char[64], NUL included. */
export const GGML_MAX_NAME = 64;
export const GGML_MAX_DIMS = 4;
export const GGUF_KEY_ALIGNMENT = 'general.alignment';

/** Value types of GGUF metadata (enum gguf_type). */
export enum GgufType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** Byte size of each fixed-size value type; strings and arrays are variable. */
export const GGUF_TYPE_SIZE: Readonly<Partial<Record<GgufType, number>>> = {
  [GgufType.UINT8]: 1,
  [GgufType.INT8]: 1,
  [GgufType.UINT16]: 2,
  [GgufType.INT16]: 2,
  [GgufType.UINT32]: 4,
  [GgufType.INT32]: 4,
  [GgufType.FLOAT32]: 4,
  [GgufType.BOOL]: 1,
  [GgufType.UINT64]: 8,
  [GgufType.INT64]: 8,
  [GgufType.FLOAT64]: 8,
};

export function isGgufType(t: number): t is GgufType {
  return Number.isInteger(t) && t >= GgufType.UINT8 && t <= GgufType.FLOAT64;
}

/** Tensor element types (enum ggml_type). Gaps are types upstream removed. */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
  NVFP4 = 40,
  Q1_0 = 41,
  Q2_0 = 42,
}
/** One past the last ggml type id (GGML_TYPE_COUNT). */
export const GGML_TYPE_COUNT = 43;

export interface GgmlTypeTraits {
  readonly name: string;
  /** Elements per block; a row's element count must be a multiple of it. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
}

/**
 * type_traits of ggml/src/ggml.c, with block struct sizes from ggml-common.h
 * (QK_K = 256). Only types a GGUF file may hold are listed; an id missing here
 * (4, 5, 31..33, 36..38) is a removed type that llama.cpp refuses.
 */
export const GGML_TYPE_TRAITS: ReadonlyMap<number, GgmlTypeTraits> = new Map<number, GgmlTypeTraits>([
  [GgmlType.F32, { name: 'f32', blockSize: 1, typeSize: 4 }],
  [GgmlType.F16, { name: 'f16', blockSize: 1, typeSize: 2 }],
  [GgmlType.Q4_0, { name: 'q4_0', blockSize: 32, typeSize: 18 }],
  [GgmlType.Q4_1, { name: 'q4_1', blockSize: 32, typeSize: 20 }],
  [GgmlType.Q5_0, { name: 'q5_0', blockSize: 32, typeSize: 22 }],
  [GgmlType.Q5_1, { name: 'q5_1', blockSize: 32, typeSize: 24 }],
  [GgmlType.Q8_0, { name: 'q8_0', blockSize: 32, typeSize: 34 }],
  [GgmlType.Q8_1, { name: 'q8_1', blockSize: 32, typeSize: 36 }],
  [GgmlType.Q2_K, { name: 'q2_K', blockSize: 256, typeSize: 84 }],
  [GgmlType.Q3_K, { name: 'q3_K', blockSize: 256, typeSize: 110 }],
  [GgmlType.Q4_K, { name: 'q4_K', blockSize: 256, typeSize: 144 }],
  [GgmlType.Q5_K, { name: 'q5_K', blockSize: 256, typeSize: 176 }],
  [GgmlType.Q6_K, { name: 'q6_K', blockSize: 256, typeSize: 210 }],
  [GgmlType.Q8_K, { name: 'q8_K', blockSize: 256, typeSize: 292 }],
  [GgmlType.IQ2_XXS, { name: 'iq2_xxs', blockSize: 256, typeSize: 66 }],
  [GgmlType.IQ2_XS, { name: 'iq2_xs', blockSize: 256, typeSize: 74 }],
  [GgmlType.IQ3_XXS, { name: 'iq3_xxs', blockSize: 256, typeSize: 98 }],
  [GgmlType.IQ1_S, { name: 'iq1_s', blockSize: 256, typeSize: 50 }],
  [GgmlType.IQ4_NL, { name: 'iq4_nl', blockSize: 32, typeSize: 18 }],
  [GgmlType.IQ3_S, { name: 'iq3_s', blockSize: 256, typeSize: 110 }],
  [GgmlType.IQ2_S, { name: 'iq2_s', blockSize: 256, typeSize: 82 }],
  [GgmlType.IQ4_XS, { name: 'iq4_xs', blockSize: 256, typeSize: 136 }],
  [GgmlType.I8, { name: 'i8', blockSize: 1, typeSize: 1 }],
  [GgmlType.I16, { name: 'i16', blockSize: 1, typeSize: 2 }],
  [GgmlType.I32, { name: 'i32', blockSize: 1, typeSize: 4 }],
  [GgmlType.I64, { name: 'i64', blockSize: 1, typeSize: 8 }],
  [GgmlType.F64, { name: 'f64', blockSize: 1, typeSize: 8 }],
  [GgmlType.IQ1_M, { name: 'iq1_m', blockSize: 256, typeSize: 56 }],
  [GgmlType.BF16, { name: 'bf16', blockSize: 1, typeSize: 2 }],
  [GgmlType.TQ1_0, { name: 'tq1_0', blockSize: 256, typeSize: 54 }],
  [GgmlType.TQ2_0, { name: 'tq2_0', blockSize: 256, typeSize: 66 }],
  [GgmlType.MXFP4, { name: 'mxfp4', blockSize: 32, typeSize: 17 }],
  [GgmlType.NVFP4, { name: 'nvfp4', blockSize: 64, typeSize: 36 }],
  [GgmlType.Q1_0, { name: 'q1_0', blockSize: 128, typeSize: 18 }],
  [GgmlType.Q2_0, { name: 'q2_0', blockSize: 64, typeSize: 18 }],
]);

export function ggmlTypeName(type: number): string {
  return GGML_TYPE_TRAITS.get(type)?.name ?? `unknown(${type})`;
}

/**
 * Byte size of a contiguous tensor, as ggml_nbytes computes it for a row-major layout.
 * Returns undefined when the shape is invalid for the type (unknown type, row not a
 * multiple of the block size) or the size exceeds Number.MAX_SAFE_INTEGER.
 */
export function tensorNbytes(type: number, dims: readonly number[]): number | undefined {
  const traits = GGML_TYPE_TRAITS.get(type);
  if (!traits) return undefined;
  const ne0 = dims.length > 0 ? dims[0]! : 1;
  if (ne0 % traits.blockSize !== 0) return undefined;
  // BigInt so that garbage dims cannot silently lose precision.
  let rows = 1n;
  for (let i = 1; i < dims.length; i++) rows *= BigInt(dims[i]!);
  const bytes = (BigInt(ne0) / BigInt(traits.blockSize)) * BigInt(traits.typeSize) * rows;
  return bytes <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(bytes) : undefined;
}

export function alignUp(n: number, alignment: number): number {
  const r = n % alignment;
  return r === 0 ? n : n + (alignment - r);
}
