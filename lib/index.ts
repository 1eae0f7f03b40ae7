/**
 * vidlm: ask questions about videos with local GGUF vision-language models.
 * Public API; everything not exported here is internal.
 */
export { VidlmError, isVidlmError, type VidlmErrorCode } from './errors.js';
export { versions, type Versions } from './versions.js';
export { loadModel, Model, type LoadModelOptions, type ModelInfo } from './model.js';
export { DEFAULT_LIMITS, type JobLimits, type ResolvedLimits } from './limits.js';
export { Context, type ContextPlan, type TokensItem, type AudioItem, type PrefillOptions, type PrefillResult, type GenerateOptions } from './inference/context.js';
export type { MediaChunkReport } from './native.js';
export { Generation, type GenerateResult } from './inference/generation.js';
export { EmbeddingCache, type EmbeddingCacheOptions } from './inference/cache.js';
export type { EncodableFrame, EncodeOptions, EncodeStats, MediaAudio, MediaInput } from './inference/encode.js';
export type { CreateContextOptions, ChatMessage } from './model.js';
export type { ChatOptions } from './pipeline/model-chat.js';
// gives Model its chat() method (lib/pipeline/model-chat.ts): the model layer does not know chats
import './pipeline/model-chat.js';
export { Chat, type TurnResult } from './inference/chat.js';
export type { ChatStartOptions } from './pipeline/start.js';
export { ask, describe, localize, chat, type VideoQueryOptions, type AskResult, type LocalizeResult } from './api/query.js';
export { countMediaTokens, type MediaTokenCount } from './api/count.js';
export type { MediaBudget } from './pipeline/media-budget.js';
export type { ProgressEvent, ProgressListener, Stage } from './pipeline/read.js';
export type { StrategyChoice } from './pipeline/plan.js';
export type { ReduceOption, ReduceParts } from './reduce/option.js';
export { openVideo, probeVideo, VideoSource, live, encodePng } from './video/index.js';
export type {
  VideoInput, VideoProbe, VideoFrame, SamplePlan, FpsRule, SampleOptions, SampledFrames, FitMode, FrameOptions, OpenOptions,
  AudioClip, AudioOptions, LiveFrame, LiveOptions, SubtitleStreamInfo, SubtitleCue, SubtitleTrack, SubtitleOptions,
} from './video/types.js';
export type { SubtitleSpec } from './video/subtitles.js';
export type { AudioLength, AudioMode, AudioOption } from './audio/media.js';
export { assemble, countTokens, strategies, strategyNames, defaults as strategyDefaults } from './assembly/index.js';
export type { FrameGrid, GridBlock, GridShape, SequencePlan, PlanItem, TextItem, EmbeddingItem, StrategyName, PooledStrategyName } from './assembly/types.js';
export { parseTimes } from './time/parse.js';
export type { TimeTokenMode, TimeEncodingOptions } from './time/encode.js';
export { watch, Watch } from './watch/watch.js';
export type { WatchOptions, WatchItem, WatchWindow, WatchEvent, WatchReconnect, WatchDiscontinuity, WatchWarning, WatchStats, WindowTimes } from './watch/types.js';
export { createServer, type VidlmServer, type ServerOptions } from './server/index.js';
