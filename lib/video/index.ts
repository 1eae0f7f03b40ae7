/**
 * vidlm video input: in-process demux/decode/seek/scale through FFmpeg's libav libraries
 * (beamcoder, GPL-3.0-or-later), frame sampling plans of the video-LLM papers, the audio track
 * and live sources. See docs/video.md.
 */
export { openVideo, probeVideo, VideoSource } from './video.js';
export { live, type LiveStream, type LiveStats } from './live.js';
export { encodePng } from './png.js';
export {
  resolvePlan, uniformIndices, litaIndices, stepIndices, fpsTimes, ffmpegFpsIndices, linspace,
  roundHalfEven, roundHalfAway, cfrTimeline, listTimeline, indexAtOrAfter,
  type Timeline, type PlannedFrame, type ResolvedPlan,
} from './plans.js';
export { buildFilterPlan, parseSize, type FilterPlan } from './convert.js';
export { cutWindows, windowStarts } from './audio.js';
export { rotationFilters, displayMatrixRotation } from './probe.js';
export { loadBeamcoder } from './ffmpeg.js';
export type * from './types.js';
