/** Audio into the model: the order of sound and pictures, the option, the media list, the cost. */
export {
  mediaOrder, mediaSteps, DEFAULT_AUDIO_WINDOW, PADDED_AUDIO_WINDOW, type AudioMode, type MediaStep,
  checkAudioOption, defaultAudioWindow, type WindowLayout, readAudioMedia, type AudioOption, type MediaAudio,
  audioClipTokens, audioPlanTokens, audioSampleTokens, paddedTokens, realTokens, whisperOutputLength, type AudioCost, type AudioLength,
} from './media.js';
export { audioFitHint } from './suggest.js';
