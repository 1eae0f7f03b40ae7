export { litaLocalizeQuestion, LITA_DENSE_CAPTION_QUESTION } from './lita.js';
