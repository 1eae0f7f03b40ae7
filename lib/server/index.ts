/**
 * The OpenAI-compatible server (`vidlm serve`). Fastify, prom-client and undici load on the
 * first createServer() call, so `import 'vidlm'` stays as light as before for everyone else.
 */
import type { VidlmServer } from './app.js';
import type { ServerOptions } from './options.js';

export type { VidlmServer, ServerOptions };

/** Creates the server over a model (loaded here from paths, or one you loaded); call listen() to start it. */
export async function createServer(options: ServerOptions): Promise<VidlmServer> {
  return (await import('./app.js')).createServer(options);
}
