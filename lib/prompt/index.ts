export { videoTimeInstruction } from './preamble.js';
export { litaLocalizeQuestion, LITA_DENSE_CAPTION_QUESTION } from './lita.js';
export { composeUserTurn, type UserTurnOptions } from './compose.js';
