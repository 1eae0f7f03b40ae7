/**
 * One question's whole path, from a video to a chat holding it in its KV cache. Each stage hands
 * the next a plain value a test can build by hand; a stage's helpers live in its own file, so a
 * reader follows a video through few modules:
 *
 *   open      VideoInput           → VideoSource (probe: duration, streams)            lib/video
 *   plan      probe + query        → VideoPlan (strategy rules, frames, size)           plan.ts
 *   budget    VideoPlan            → MediaBudget (frame times, audio, cues counted)     media-budget.ts
 *   sample    VideoPlan            → SampledVideo (RGB frames with times; audio, cues)  sample.ts
 *   encode    SampledVideo         → Encoded (grids | media)                            read.ts
 *   assemble  Encoded              → Assembled (items + user turn | media)              assemble.ts
 *   render    Assembled + template → RenderedPrompt (prefix, rest, history)            render.ts
 *   start     RenderedPrompt       → Chat (prefix evaluated once: Sequence.start)       lib/inference/chat.ts
 *
 * readVideo (read.ts) runs open → assemble for one video, through its memo; prepare() (render.ts,
 * beside the render stage it ends with) runs them all for one question.
 *
 * The pooled path (the papers' methods) and the mtmd path (libmtmd's own media: M-RoPE and the
 * models it owns) differ only in encode and assemble. Subtitles (lib/subtitles) and audio
 * (lib/audio; on both paths libmtmd encodes the clips) are read by sample and placed by assemble. ask, describe, localize and chat
 * (lib/api/query.ts) call prepare() and then ask the chat.
 */

export { prepare, type PipelineQuery, type Prepared } from './render.js';
export { assemblyPlan, contextFull, frameVariant, planVideo, type PlanQuery, type VideoPlan } from './plan.js';
export { checkMediaBudget, imageChunkTokens, mediaBudget, mediaBudgetError, type MediaBudget } from './media-budget.js';
export { sample, type SampledVideo } from './sample.js';
export { encode, type FrameEncoder } from './read.js';
export { assemble, type Encoded, type Assembled, type AssembleQuery, type SampledExtras } from './assemble.js';
export { render, renderTurns, renderTurnsWith, QUESTION, type ChatMessage, type ChatTemplate, type RenderedPrompt, type TurnMessage } from './render.js';
export { readVideo, type ReadQuery, type ReadVideo } from './read.js';
export { chooseStrategy, leastPooled, defaultFrames, mediaTokenBudget, samplingPlan, textReserve, visualTokens, nativeDefaults, modelTimeFamily, type StrategyChoice } from './plan.js';
