/** GGUF reading, validation and writing, in TypeScript with no dependencies. */
export {
  GGML_MAX_DIMS,
  GGML_MAX_NAME,
  GGML_TYPE_COUNT,
  GGML_TYPE_TRAITS,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_SUPPORTED_VERSIONS,
  GgmlType,
  GgufType,
  alignUp,
  ggmlTypeName,
  tensorNbytes,
  type GgmlTypeTraits,
} from './constants.js';
export { f16ArrayToF32, f16BitsToF32, f32ArrayToF16, f32ToF16Bits } from './f16.js';
export type { GgufFailReason } from './errors.js';
export { summaryKv, type GgufArrayValue, type GgufKv, type GgufScalar, type GgufSummary, type GgufTensorInfo, type GgufValue, type GgufValueType } from './types.js';
export { validateGguf } from './validate.js';
export { GgufWriter, type GgufWriterOptions } from './writer.js';
