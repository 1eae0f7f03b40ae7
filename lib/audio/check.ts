/** The span of sound a question reads (the budget check and the sample stage). */
import type { VideoProbe } from '../video/types.js';

/** The seconds of sound a question reads: the segment, else the whole track. */
export function audioSpan(probe: VideoProbe, segment?: [number, number]): [number, number] {
  const end = Math.max(probe.duration, probe.audio ? probe.audio.startTime + probe.audio.duration : 0);
  return [segment?.[0] ?? 0, Math.min(segment?.[1] ?? Infinity, end)];
}
