/** Audio into the model: the order of sound and pictures, the option, the media list, the cost. */
export { mediaOrder, DEFAULT_AUDIO_WINDOW, PADDED_AUDIO_WINDOW, type AudioMode, type MediaStep } from './plan.js';
export { checkAudioOption, defaultAudioWindow, type WindowLayout, readAudioMedia, nativeLayout, orderedMedia, stepContent, type AudioOption, type MediaAudio } from './media.js';
export { audioClipTokens, audioPlanTokens, audioSampleTokens, paddedTokens, realTokens, whisperOutputLength, type AudioCost, type AudioLength } from './budget.js';
export { audioFitHint } from './suggest.js';
