/**
 * vidlm video input: in-process demux/decode/seek/scale through FFmpeg's libav libraries (the
 * addon's native/video, over the pinned LGPL build shipped with it), frame sampling plans of the video-LLM papers, the audio track
 * and live sources. See docs/video.md.
 */
export { openVideo, probeVideo, VideoSource } from './video.js';
export { live, type LiveStream, type LiveStats } from './live.js';
export { encodePng } from './png.js';
export {
  resolvePlan, uniformIndices, litaIndices, stepIndices, fpsTimes, ffmpegFpsIndices, linspace,
  roundHalfEven, roundHalfAway, cfrTimeline, listTimeline, streamTimeline, indexAtOrAfter,
  type Timeline, type PlannedFrame, type ResolvedPlan,
} from './plans.js';
export { convertSpec, parseSize } from './convert.js';
export { cutWindows, windowStarts } from './video.js';
export { pickSubtitleStream } from './subtitles.js';
export { rotationFilters, displayMatrixRotation } from './open.js';
export type * from './types.js';
