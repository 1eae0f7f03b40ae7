/**
 * createServer(): the OpenAI-compatible HTTP server over one loaded model, on Fastify (routing,
 * JSON parsing, body limits and ajv schema validation), fastify-sse-v2 (SSE framing),
 * @fastify/bearer-auth (constant-time API key check) and prom-client (/metrics).
 */
import { createHash, randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import bearerAuth from '@fastify/bearer-auth';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { FastifySSEPlugin } from 'fastify-sse-v2';
import { loadModel, type Model } from '../model.js';
import { VidlmError } from '../errors.js';
import { runCompletion, type CompletionResult, type ServerState } from './completion.js';
import type { Delta } from './tools.js';
import { capConnections, guardBody, Places } from './admission.js';
import { HttpError, shuttingDown, toOpenAIError } from './errors.js';
import { parseJsonOffThread } from './json-body.js';
import { checkTextLength, textCap } from './text.js';
import { remoteClient } from './media.js';
import { createMetrics } from './metrics.js';
import { checkMediaFolder, checkServerOptions, type ServerOptions } from './options.js';
import { parseRequest, type ChatBody } from './request.js';
import { chatCompletionBody } from './schema.js';
import { SlotPool } from './slots.js';
import { uiRoutes } from './ui/routes.js';

export interface VidlmServer {
  readonly app: FastifyInstance;
  readonly model: Model;
  readonly modelId: string;
  /** The address once listen() resolved, e.g. http://127.0.0.1:8080. */
  readonly url: string | null;
  listen(opts?: { host?: string; port?: number }): Promise<string>;
  /**
   * Graceful shutdown: stop accepting, refuse what is queued, give in-flight requests `graceMs`
   * (default 10 s) to finish and abort the rest, then free the slots (and the model if the server
   * loaded it).
   */
  close(opts?: { graceMs?: number }): Promise<void>;
}

const usageOf = (r: CompletionResult) => ({
  prompt_tokens: r.usage.prompt,
  completion_tokens: r.usage.completion,
  total_tokens: r.usage.prompt + r.usage.completion,
  prompt_tokens_details: { cached_tokens: r.usage.cached },
});

const vidlmOf = (r: CompletionResult) => ({ media: r.media, timings: r.timings, slot: r.slot, kv_tokens: r.kvTokens });

/** Encodes in progress per model: servers sharing a model share them, as they share its cache. */
const encodes = new WeakMap<Model, Map<string, Promise<unknown>>>();
function encodesOf(model: Model): Map<string, Promise<unknown>> {
  let m = encodes.get(model);
  if (!m) encodes.set(model, (m = new Map()));
  return m;
}

export async function createServer(options: ServerOptions): Promise<VidlmServer> {
  const o = checkServerOptions(options);
  await checkMediaFolder(o.mediaPath); // before the model is loaded
  const ownsModel = !(options.model as Model).info;
  const model = ownsModel ? await loadModel(options.model as { model: string; mmproj: string; threads?: number | 'auto'; poll?: number | 'auto' }) : (options.model as Model);
  const modelId = options.modelId ?? basename(model.paths.model).replace(/\.gguf$/i, '');
  /** The ids a request's `model` may name: the served id (the alias) and the model file's own name. */
  const served = new Set([modelId, basename(model.paths.model), basename(model.paths.model).replace(/\.gguf$/i, '')]);
  /** OpenAI's system_fingerprint (a string): the model file and mmproj this server answers with. */
  const fingerprint = `fp_${createHash('sha1').update(`${model.paths.model}\0${model.paths.mmproj ?? ''}`).digest('hex').slice(0, 12)}`;
  const contexts = [];
  try {
    for (let i = 0; i < o.parallel; i++) contexts.push(await model.createContext({ contextSize: o.contextSize, sequences: 1 }));
    contexts.push(await model.createContext({ contextSize: 16 }));
  } catch (e) {
    for (const c of contexts) c.dispose();
    if (ownsModel) model.dispose();
    throw e;
  }
  const tokenizer = contexts.pop()!;
  const metrics = createMetrics();
  const pool = new SlotPool(contexts, o.queue, () => { metrics.queueDepth.set(pool.queued); metrics.slotsBusy.set(pool.busy); });
  const remote = remoteClient(o);
  const state: ServerState = { model, pool, tokenizer, contextSize: contexts[0]!.contextSize, options: o, remote, metrics, encoding: encodesOf(model) };
  /** Each admitted request's hooks for the work it starts (see the route's preValidation). */
  const admissions = new WeakMap<FastifyRequest, { workStarted(): void; workSettled(): void }>();
  /** Request bodies arriving now (their own pool: a body in flight holds no place in the slot queue). */
  const bodies = new Places(o.maxBodies, 'request bodies');
  const bodyPlaces = new WeakMap<FastifyRequest, () => void>();
  /** When each request's headers came: --timeout counts from there, body included. */
  const arrived = new WeakMap<FastifyRequest, number>();
  /** Requests running or queued: each one's controller, so shutdown can abort them. */
  const inflight = new Set<AbortController>();
  let closing = false;
  /** Aborted when shutdown starts: live watches (which never finish by themselves) end at once. */
  const stopping = new AbortController();
  const created = Math.floor(Date.now() / 1000);

  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: o.bodyLimit,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    forceCloseConnections: true,
  });
  await app.register(FastifySSEPlugin, { retryDelay: false });
  capConnections(app.server, o.maxConnectionsPerClient);
  const jsonParser = parseJsonOffThread(app);
  const maxText = textCap(model, state.contextSize);
  // HTTP requests open, body still arriving included: shutdown waits for them
  let open = 0;
  app.addHook('onRequest', (req, _reply, done) => {
    open++;
    _reply.raw.once('close', () => { open--; });
    done();
  });

  const count = (status: number, code?: string | null) => {
    metrics.requests.inc({ status: String(status) });
    if (code) metrics.errors.inc({ code });
  };
  app.setErrorHandler((err, req, reply) => {
    const { status, body, headers } = toOpenAIError(err);
    if (req.routeOptions.url === '/v1/chat/completions') count(status, body.error.code ?? 'unknown');
    void reply.code(status).headers(headers).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error', code: 'not_found', param: null } });
  });

  app.get('/health', async (_req, reply) => {
    if (closing) return reply.code(503).send({ status: 'shutting_down' });
    // a model passed in and disposed by its owner: every request can only fail (503 ERR_DISPOSED)
    if (model.disposed) return reply.code(503).send({ status: 'model_disposed' });
    return { status: 'ok', slots: { total: pool.slots.length, busy: pool.busy }, queue: pool.queued };
  });

  await app.register(async (api) => {
    if (o.apiKey) {
      await api.register(bearerAuth, {
        keys: new Set([o.apiKey]),
        errorResponse: ((err: Error) => ({ error: { message: `invalid API key: ${err.message}`, type: 'authentication_error', code: 'invalid_api_key', param: null } })) as never,
      });
    }
    api.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
    api.get('/v1/models', async () => ({
      object: 'list',
      data: [{ id: modelId, object: 'model', created, owned_by: 'vidlm', meta: { architecture: model.info.architecture, vision: model.info.vision, n_ctx: state.contextSize, slots: o.parallel } }],
    }));
    api.post('/v1/chat/completions', {
      schema: { body: chatCompletionBody },
      // on its headers: refused at once when the queue is already full, else it takes a place among the bodies in flight
      onRequest: (req, reply, done) => {
        arrived.set(req, performance.now());
        try {
          if (closing) throw shuttingDown();
          if (pool.admitted >= pool.slots.length + pool.queueMax) pool.admit(); // throws the full queue's 503
          const give = bodies.take();
          bodyPlaces.set(req, give);
          reply.raw.once('close', give);
        } catch (e) {
          done(e as Error);
          return;
        }
        done();
      },
      // the body must arrive by its deadline and at the minimum rate (408, connection closed)
      preParsing: (req, _reply, payload, done) => {
        const elapsed = performance.now() - (arrived.get(req) ?? performance.now());
        done(null, guardBody(payload, { deadlineMs: Math.max(1, Math.min(o.bodyTimeoutMs, o.requestTimeoutMs - elapsed)), minRate: o.minBodyRate, graceMs: 5000 }));
      },
      // admitted once its body is complete: a slow body never holds a place in the queue
      preValidation: (req, reply, done) => {
        bodyPlaces.get(req)?.();
        let leave: () => void;
        try {
          leave = pool.admit();
        } catch (e) {
          done(e as Error);
          return;
        }
        // inside until both its response is over and its work has settled
        const parts = { response: true, work: false };
        const out = () => { if (!parts.response && !parts.work) leave(); };
        admissions.set(req, { workStarted: () => { parts.work = true; }, workSettled: () => { parts.work = false; out(); } });
        reply.raw.once('close', () => { parts.response = false; out(); });
        done();
      },
    }, (req, reply) => completions(req as FastifyRequest<{ Body: ChatBody }>, reply));
  });
  if (options.ui !== false) await app.register(uiRoutes, { state, modelId, stopping: stopping.signal });

  async function completions(req: FastifyRequest<{ Body: ChatBody }>, reply: FastifyReply): Promise<unknown> {
    if (closing) throw shuttingDown();
    const asked = req.body.model;
    if (typeof asked === 'string' && asked.length > 0 && !served.has(asked)) {
      throw new HttpError(404, 'model_not_found', `The model \`${asked.slice(0, 200)}\` does not exist: this server serves ${modelId}`, { param: 'model' });
    }
    const parsed = parseRequest(req.body);
    checkTextLength(parsed.messages, maxText); // before anything tokenizes it
    const controller = new AbortController();
    inflight.add(controller);
    const admission = admissions.get(req)!;
    admission.workStarted();
    // a client that goes away before the answer is complete aborts its own work
    reply.raw.on('close', () => { if (!reply.raw.writableFinished) controller.abort(new Error('the client disconnected')); });
    // --timeout counts from the request's headers: the body's time is part of it
    const timeout = AbortSignal.timeout(Math.max(1, Math.floor(o.requestTimeoutMs - (performance.now() - (arrived.get(req) ?? performance.now())))));
    const signal = AbortSignal.any([controller.signal, timeout]);
    // why a request stopped, whichever stage noticed: its time ran out, or its client left
    const cause = (e: unknown): unknown => {
      if (timeout.aborted) return new HttpError(408, 'request_timeout', `the request took longer than ${o.requestTimeoutMs / 1000} s (--timeout)`);
      if (controller.signal.aborted && !(e instanceof HttpError) && !(e instanceof VidlmError)) return new VidlmError('ERR_ABORTED', `aborted: ${String((controller.signal.reason as Error)?.message)}`);
      return e;
    };
    const id = `chatcmpl-${randomUUID()}`;
    const base = { id, created: Math.floor(Date.now() / 1000), model: modelId };

    if (!parsed.stream) {
      try {
        const r = await runCompletion(state, parsed, signal, () => {}).catch((e: unknown) => { throw cause(e); });
        count(200);
        return {
          ...base, object: 'chat.completion', system_fingerprint: fingerprint,
          choices: [{ index: 0, message: { role: 'assistant', content: r.toolCalls && r.text === '' ? null : r.text, refusal: null, ...(r.toolCalls ? { tool_calls: r.toolCalls } : {}) }, finish_reason: r.finishReason, logprobs: null }],
          usage: usageOf(r), vidlm: vidlmOf(r),
        };
      } finally {
        inflight.delete(controller);
        admission.workSettled();
      }
    }

    // Streaming: errors before the first piece (bad media, full queue) are plain HTTP errors; the
    // SSE response starts with the first piece of the answer.
    const chunk = (delta: object, finish: string | null, extra: object = {}) => ({
      data: JSON.stringify({ ...base, object: 'chat.completion.chunk', system_fingerprint: fingerprint, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra }),
    });
    const pieces: Delta[] = [];
    let wake: (() => void) | null = null;
    let started!: () => void;
    const firstPiece = new Promise<void>((res) => { started = res; });
    let settled = false, streaming = false;
    const done = runCompletion(state, parsed, signal, (p) => { pieces.push(p); started(); wake?.(); }).catch((e: unknown) => { throw cause(e); });
    // counted and forgotten when the work ends, whether or not the client still reads the stream
    // (an error before the stream started is the error handler's to count)
    done.then(() => count(200), (e: unknown) => { if (streaming) count(toOpenAIError(e).status, toOpenAIError(e).body.error.code); })
      .finally(() => { settled = true; inflight.delete(controller); admission.workSettled(); started(); wake?.(); });
    await Promise.race([firstPiece, done]); // an error before the first piece is a plain HTTP error
    streaming = true;
    const includeUsage = parsed.includeUsage;
    async function* events() {
      try {
        yield chunk({ role: 'assistant', content: '' }, null);
        for (;;) {
          while (pieces.length > 0) yield chunk(pieces.shift()!, null);
          if (settled) break;
          await new Promise<void>((res) => { wake = res; });
          wake = null;
        }
        const r = await done;
        while (pieces.length > 0) yield chunk(pieces.shift()!, null);
        yield chunk({}, r.finishReason, { vidlm: vidlmOf(r) });
        if (includeUsage) yield { data: JSON.stringify({ ...base, object: 'chat.completion.chunk', system_fingerprint: fingerprint, choices: [], usage: usageOf(r) }) };
      } catch (e) {
        yield { data: JSON.stringify(toOpenAIError(e).body) };
      }
      yield { data: '[DONE]' };
    }
    reply.sse(events());
    return reply;
  }

  const server: VidlmServer = {
    app, model, modelId, url: null,
    async listen(l = {}) {
      const address = await app.listen({ host: l.host ?? options.host ?? '127.0.0.1', port: l.port ?? options.port ?? 8080 });
      (server as { url: string | null }).url = address;
      return address;
    },
    close(c = {}) {
      closed ??= shutdown(c.graceMs ?? 10_000);
      return closed;
    },
  };
  let closed: Promise<void> | undefined;
  async function shutdown(grace: number): Promise<void> {
    closing = true;
    stopping.abort();
    pool.close();
    const deadline = Date.now() + grace;
    while ((open > 0 || inflight.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const ctl of inflight) ctl.abort(new Error('the server is shutting down'));
    while (inflight.size > 0) await new Promise((r) => setTimeout(r, 20));
    await app.close();
    await remote.agent.close();
    await jsonParser.close();
    for (const s of pool.slots) s.sequence.context.dispose();
    tokenizer.dispose();
    if (ownsModel) model.dispose();
  }
  return server;
}
