/**
 * POST /ui/api/live: `watch()` on a live source the operator named (`--live name=url`), its items
 * streamed to the client as server-sent events while the client stays connected.
 *
 * A live watch runs for as long as its client wants, so it does not take one of the request
 * slots (a server with one slot would answer nothing else while a page watches): it runs on a
 * context of its own that watch() creates and frees, and at most `liveWatches` (default 1) run at
 * once; past that, 503 `live_watches_busy` before anything is opened. A client that goes away
 * aborts its watch (the answer in progress included) and the context is freed; so does the
 * server's shutdown. Only names reach this route: the URL stays on the server.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import { watch, type Watch } from '../../watch/watch.js';
import type { WatchOptions } from '../../watch/types.js';
import type { ServerState } from '../completion.js';
import { HttpError, shuttingDown, toOpenAIError } from '../errors.js';

export interface LiveBody {
  name: string;
  every?: number;
  window?: number;
  fps?: number;
  frames?: number;
  prompt?: string;
  when?: string;
  strategy?: 'auto' | 'concat' | 'slowfast' | 'pllava' | 'bilinear' | 'vcgpt' | 'native';
  max_tokens?: number;
  temperature?: number;
}

export const liveBody = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64 },
    every: { type: 'number', minimum: 0.25, maximum: 3600 },
    window: { type: 'number', minimum: 0.25, maximum: 3600 },
    fps: { type: 'number', exclusiveMinimum: 0, maximum: 60 },
    frames: { type: 'integer', minimum: 1, maximum: 4096 },
    prompt: { type: 'string', minLength: 1, maxLength: 2000 },
    when: { type: 'string', minLength: 1, maxLength: 500 },
    strategy: { type: 'string', enum: ['auto', 'concat', 'slowfast', 'pllava', 'bilinear', 'vcgpt', 'native'] },
    max_tokens: { type: 'integer', minimum: 1, maximum: 1024 },
    temperature: { type: 'number', minimum: 0, maximum: 2 },
  },
} as const;

/** The watch's options from a request: the server's model and context size, the client's timing and question. */
function watchOptions(s: ServerState, b: LiveBody, signal: AbortSignal): WatchOptions {
  const every = b.every ?? 2;
  const window = b.window ?? 2 * every;
  const perWindow = b.frames ?? Math.ceil(window * (b.fps ?? 1));
  if (perWindow > s.options.maxFrames) {
    throw new HttpError(400, 'invalid_value', `a window of ${window} s at these settings holds ${perWindow} frames; this server takes at most ${s.options.maxFrames} (--max-frames)`, { param: b.frames !== undefined ? 'frames' : 'fps' });
  }
  return {
    model: s.model, contextSize: s.contextSize, every, window, signal,
    ...(b.frames !== undefined ? { frames: b.frames } : {}), ...(b.fps !== undefined ? { fps: b.fps } : {}),
    ...(b.when !== undefined ? { when: b.when } : {}), ...(b.prompt !== undefined ? { prompt: b.prompt } : {}),
    strategy: b.strategy ?? 'auto', maxTokens: b.max_tokens ?? 64, temperature: b.temperature ?? 0,
  };
}

export function liveRoutes(api: FastifyInstance, opts: { state: ServerState; stopping: AbortSignal }): void {
  const { state: s, stopping } = opts;
  const { live, liveWatches } = s.options;
  const registers = [s.metrics.registry];
  const running = new Gauge({ name: 'vidlm_live_watches', help: 'Live watches running (each on its own context)', registers });
  const windows = new Counter({ name: 'vidlm_live_windows_total', help: 'Windows answered by live watches', registers });
  /** Each running watch until its context is freed: the server closes only after them. */
  const tasks = new Set<Promise<void>>();
  let count = 0;
  api.addHook('onClose', async () => { await Promise.all([...tasks]); });

  api.post('/ui/api/live', { schema: { body: liveBody } }, async (req: FastifyRequest<{ Body: LiveBody }>, reply) => {
    if (stopping.aborted) throw shuttingDown();
    const { name } = req.body;
    const url = live.get(name);
    if (url === undefined) {
      throw new HttpError(404, 'live_source_not_found', `no live source named ${JSON.stringify(name.slice(0, 64))}: the server's operator names them (--live name=url)`, { param: 'name' });
    }
    if (count >= liveWatches) {
      throw new HttpError(503, 'live_watches_busy', `${liveWatches} live watch(es) already run on this server (--live-watches): try again when one ends`, { headers: { 'retry-after': '5' } });
    }
    count++; // taken before anything awaits, so concurrent requests cannot both pass the check
    running.set(count);
    const gone = new AbortController();
    reply.raw.on('close', () => gone.abort(new Error('the client disconnected')));
    let w: Watch, o: WatchOptions;
    try {
      o = watchOptions(s, req.body, AbortSignal.any([gone.signal, stopping]));
      w = watch(url, o);
    } catch (e) {
      count--;
      running.set(count);
      throw e; // bad options: a plain 4xx
    }
    const queue: object[] = [];
    let wake: (() => void) | null = null;
    let over = false;
    const ping = () => { const f = wake; wake = null; f?.(); };
    const push = (x: object) => { queue.push(x); ping(); };
    const task = (async () => {
      try {
        push({ type: 'start', name, every: o.every, window: o.window });
        for await (const item of w) {
          if (item.type === 'window') windows.inc();
          push(item);
        }
        push({ type: 'end' });
      } catch (e) {
        if (!gone.signal.aborted) push({ type: 'error', error: toOpenAIError(stopping.aborted ? shuttingDown() : e).body.error });
      } finally {
        // the watch's context and source are freed once its iteration has ended
        count--;
        running.set(count);
        over = true;
        ping();
      }
    })();
    tasks.add(task);
    void task.finally(() => tasks.delete(task));
    async function* events() {
      for (;;) {
        while (queue.length > 0) yield { data: JSON.stringify(queue.shift()) };
        if (over) return;
        await new Promise<void>((r) => { wake = r; });
      }
    }
    reply.sse(events());
    return reply;
  });
}
