/** Subtitles for prompts: reading a track or an external file, and placing cues among frames. */
export { cueLines, renderCue, placeCues, groupCues, temporalMerge } from './cues.js';
export { withTranscript } from './prompt.js';
export { loadSubtitles, readSubtitleFile, isSubtitleFile, type SubtitleSpec, type LoadedSubtitles } from './load.js';
