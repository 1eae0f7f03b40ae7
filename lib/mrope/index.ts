/**
 * M-RoPE (Qwen-VL family) positions and layouts, pure, in qwen.ts: the positions of a layout of text
 * runs and grids in llama.cpp's batch form, and how each Qwen family's processor lays out a video.
 */
export {
  mropePositions, mropeItemTokens, mropeItemNext, mropeTokenPosition,
  type MropeItem, type MropeText, type MropeGrid, type MropeSpan, type MropeLayout,
} from './qwen.js';
export {
  qwenVideoParts, qwenVideoLayout, qwenImageParts, qwenItems, qwen3Timestamp, qwen25TemporalIndices, qwenFramePairs, mergeText,
  QWEN_VISION_START, QWEN_VISION_END, QWEN25_TOKENS_PER_SECOND, QWEN_TEMPORAL_PATCH,
  type QwenFamily, type QwenPart, type QwenLayoutGrid, type QwenVideo, type QwenVideoOptions,
} from './qwen.js';
