/**
 * The page of `vidlm serve` (GET /, on unless `ui: false` / --no-ui) and the few endpoints it
 * needs besides the chat API: the server's limits, the media folder's listing, a media file to
 * play (byte ranges, so the player can seek), the media budget of a question before asking, and
 * a watch on a live source the operator named (live.ts).
 * Static files go through @fastify/static (ranges, ETags, content types); the /ui/api routes
 * take the server's API key like /v1.
 */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import bearerAuth from '@fastify/bearer-auth';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerState } from '../completion.js';
import { localFile, mediaRoot } from '../media.js';
import { budgetBody, mediaBudget, type BudgetBody } from './budget.js';
import { listMedia } from './listing.js';
import { liveRoutes } from './live.js';
import { modelTimeFamily } from '../../pipeline/index.js';

/** The package root: lib/server/ui and dist/server/ui are both three levels down. */
const root = fileURLToPath(new URL('../../../', import.meta.url));
/** index.html and style.css (shipped as they are), and the page's scripts as tsc compiled them. */
export const uiDirs = [`${root}ui`, `${root}dist/server/ui/page`];

export async function uiRoutes(app: FastifyInstance, opts: { state: ServerState; modelId: string; stopping?: AbortSignal }): Promise<void> {
  const { state: s, modelId } = opts;
  const stopping = opts.stopping ?? new AbortController().signal;
  const o = s.options;
  await app.register(fastifyStatic, { root: uiDirs, prefix: '/ui/', index: false, globIgnore: ['**/*.d.ts', '**/*.map'], cacheControl: false });
  app.get('/', (_req, reply) => reply.type('text/html; charset=utf-8').sendFile('index.html', uiDirs[0]!));

  await app.register(async (api) => {
    if (o.apiKey) {
      await api.register(bearerAuth, {
        keys: new Set([o.apiKey]),
        errorResponse: ((err: Error) => ({ error: { message: `invalid API key: ${err.message}`, type: 'authentication_error', code: 'invalid_api_key', param: null } })) as never,
      });
    }
    const info = s.model.info;
    api.get('/ui/api/info', async () => ({
      model: modelId, architecture: info.architecture, vision: info.vision, audio: info.audio, mrope: info.mrope,
      // timeTokens 'model' is offered where the model has a time layout of its own (the Qwen-VL family)
      model_time: modelTimeFamily(info) !== null,
      context_size: s.contextSize, media_path: o.mediaPath !== undefined, max_media_bytes: o.maxMediaBytes,
      max_frames: o.maxFrames, max_duration: o.maxDuration, api_key: o.apiKey !== undefined,
      live: [...o.live.keys()], live_watches: o.liveWatches,
    }));
    api.get('/ui/api/media', async () => {
      // live sources by name only: their URLs (credentials, addresses) stay on the server
      const live = [...o.live.keys()].map((name) => ({ name, kind: 'live' }));
      if (!o.mediaPath) return { media_path: false, files: [], truncated: false, live };
      return { media_path: true, ...(await listMedia(await mediaRoot(o), o.maxMediaBytes)), live };
    });
    api.get('/ui/api/file', {
      schema: { querystring: { type: 'object', required: ['path'], properties: { path: { type: 'string', minLength: 1 } } } },
    }, async (req: FastifyRequest<{ Querystring: { path: string } }>, reply) => {
      // the request path's own checks: inside the folder after realpath, a file, within --max-media-mb
      const file = await localFile(req.query.path, o, 'path');
      const folder = await mediaRoot(o);
      return reply.sendFile(relative(folder, file.input as string), folder);
    });
    api.post('/ui/api/budget', { schema: { body: budgetBody } }, async (req: FastifyRequest<{ Body: BudgetBody }>, reply) => {
      const ac = new AbortController();
      reply.raw.on('close', () => { if (!reply.raw.writableFinished) ac.abort(new Error('the client disconnected')); });
      return mediaBudget(s, req.body, AbortSignal.any([ac.signal, AbortSignal.timeout(o.requestTimeoutMs)]));
    });
    liveRoutes(api, { state: s, stopping });
  });
}
