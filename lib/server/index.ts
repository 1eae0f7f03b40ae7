/** The OpenAI-compatible server (`vidlm serve`). */
export { createServer, type VidlmServer } from './app.js';
export type { ServerOptions } from './options.js';
