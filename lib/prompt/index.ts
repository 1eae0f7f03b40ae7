export { litaLocalizeQuestion, LITA_DENSE_CAPTION_QUESTION } from './lita.js';
export { composeUserTurn, videoTimeInstruction, type UserTurnOptions } from './compose.js';
