/** Audio into the model: the order of sound and pictures, the option, the media list. */
export { mediaOrder, DEFAULT_AUDIO_WINDOW, type AudioMode, type MediaStep } from './plan.js';
export { checkAudioOption, readAudioMedia, orderedMedia, stepContent, type AudioOption, type MediaAudio } from './media.js';
export { audioClipTokens, audioPlanTokens } from './budget.js';
export { audioSpan } from './check.js';
export { audioSlots } from './slots.js';
