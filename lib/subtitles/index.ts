/** Subtitles for prompts: reading a track or an external file, and placing cues among frames. */
export { readSubtitleFile, isSubtitleFile } from './external.js';
export { cueLines, renderCue, placeCues, groupCues, temporalMerge } from './cues.js';
export { subtitleTranscript, withTranscript } from './prompt.js';
export { loadSubtitles, type SubtitleSpec, type LoadedSubtitles } from './load.js';
