/** Subtitles for prompts: reading a track or an external file (the assemble stage, lib/pipeline/assemble.ts, places the cues among frames). */
export { withTranscript } from './prompt.js';
export { loadSubtitles, readSubtitleFile, isSubtitleFile, type SubtitleSpec, type LoadedSubtitles } from '../video/subtitles.js';
