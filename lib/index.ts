/**
 * vidlm: ask questions about videos with local GGUF vision-language models.
 * Public API; everything not exported here is internal.
 */
export { VidlmError, isVidlmError, type VidlmErrorCode } from './errors.js';
export { versions, type Versions } from './versions.js';
export { loadModel, Model, type LoadModelOptions, type ModelInfo } from './model.js';
