/**
 * One chat completion from a parsed request: wait for a slot permit, prepare the media, build
 * the prompt, evaluate only what the chosen slot's KV does not hold yet, and generate. The caller
 * gets the answer's pieces as they come and a summary; its signal (client gone, timeout,
 * shutdown) aborts whichever stage is running and gives the slot back.
 */
import { VidlmError } from '../errors.js';
import type { Context, Sequence } from '../inference/context.js';
import type { GenerateResult } from '../inference/generation.js';
import type { Model } from '../model.js';
import { badRequest, HttpError } from './errors.js';
import type { Metrics } from './metrics.js';
import type { CheckedServerOptions } from './options.js';
import { prefillSlot } from './prefill.js';
import { renderRequest } from './prompt.js';
import type { ParsedRequest } from './request.js';
import type { Slot, SlotPool } from './slots.js';
import { prepareMedia, resolveSubtitles, type PreparedMedia, type RemoteClient } from './media.js';
import { checkTextLength, textCap } from './text.js';
import { generateWithTools, type Delta, type ToolCall } from './tools.js';

export interface ServerState {
  model: Model;
  pool: SlotPool;
  /** A small context used only to tokenize (slots are busy with their own work). */
  tokenizer: Context;
  contextSize: number;
  options: CheckedServerOptions;
  remote: RemoteClient;
  metrics: Metrics;
  /** Frame encodes in progress, so requests asking for the same frames at once encode them once. */
  encoding: Map<string, Promise<unknown>>;
}

export interface CompletionResult {
  /** The answer's text (with tools: its content, the calls parsed out). */
  text: string;
  toolCalls?: ToolCall[];
  finishReason: 'stop' | 'length' | 'tool_calls';
  usage: { prompt: number; cached: number; completion: number };
  media: { strategy: string; frames: { index: number; t: number }[]; duration: number; visual_tokens: number; decoded: number; encoded: number; cached: number;
    /** Audio clips the part gave the model, subtitle cues read, and what it went without (no audio track, a missing subtitle track). */
    audio_chunks: number; subtitle_cues: number; warnings?: string[];
    /** http(s) media only: downloaded, or the server's kept bytes reused after the remote answered 304 Not Modified. */
    remote?: 'downloaded' | 'not_modified' }[];
  timings: { queue_ms: number; prepare_ms: number; prefill_ms: number; first_token_ms: number; generate_ms: number };
  slot: number;
  /** Positions the slot's KV held after the prefill (equals the prompt on the text path). */
  kvTokens: number;
}

const finishReason = (r: GenerateResult['stopReason']): 'stop' | 'length' => (r === 'eos' || r === 'stop' ? 'stop' : 'length');

async function generatePlain(sequence: Sequence, req: ParsedRequest, signal: AbortSignal, onPiece: (delta: Delta) => void): Promise<{ g: GenerateResult; parsed?: undefined }> {
  const gen = sequence.generate({ ...req.generate, signal });
  for await (const piece of gen) onPiece({ content: piece });
  return { g: await gen };
}

export async function runCompletion(s: ServerState, req: ParsedRequest, signal: AbortSignal, onPiece: (delta: Delta) => void): Promise<CompletionResult> {
  // generation options and the grammar are checked before any wait or work
  s.tokenizer.generateParams(req.generate);
  const mediaParts = req.messages.flatMap((m) => m.parts.filter((p) => p.kind === 'media'));
  const info = s.model.info;
  // sound (vidlm.audio, input_audio parts) needs an audio encoder: 400 before any wait or work
  const audioParam = req.video.audio !== undefined ? 'vidlm.audio' : mediaParts.find((p) => p.kind === 'media' && p.audio)?.param;
  if (audioParam && !info.audio) throw new VidlmError('ERR_UNSUPPORTED', "the model's mmproj has no audio encoder: it cannot take sound (vidlm.audio, input_audio)", { option: audioParam });
  if (mediaParts.length > 0 && !info.vision && !info.audio) throw badRequest('unsupported_value', 'the model has no vision encoder (no mmproj)', 'messages');
  // sound alone (input_audio parts, a model that does not see) goes through libmtmd's media path; a video's sound goes with
  // the request's strategy as ask() takes it (pooled: audio clips among the frame blocks, prefill.ts)
  const soundAlone = mediaParts.some((p) => p.kind === 'media' && p.audio);
  const mediaPath = soundAlone || (mediaParts.length > 0 && !info.vision);
  if (mediaPath && req.video.strategy !== 'auto' && req.video.strategy !== 'native') {
    throw new VidlmError('ERR_UNSUPPORTED', `sound without pictures goes through the native path: strategy ${req.video.strategy} has no frames to pool (leave strategy out or use 'native')`, { option: 'vidlm.strategy' });
  }
  const subtitles = await resolveSubtitles(req.video.subtitles, s.options);
  const video = subtitles === req.video.subtitles ? req.video : { ...req.video, subtitles };
  const t0 = performance.now();
  await s.pool.acquire(signal);
  const tQueue = performance.now();
  let slot = null as Slot | null; // set by prefillSlot as soon as it takes one (a closure: not narrowed to null)
  try {
    const strategy = mediaPath ? 'native' : req.video.strategy;
    const hasToken = (tok: string) => s.tokenizer.tokenize(tok).length === 1;
    const media: PreparedMedia[] = [];
    let framesSoFar = 0;
    for (const p of mediaParts) {
      if (p.kind !== 'media') continue;
      const m = await prepareMedia(p.url, p.param, strategy, video, {
        model: s.model, options: { ...s.options, maxFrames: s.options.maxFrames - framesSoFar }, remote: s.remote, metrics: s.metrics, signal,
        // the request's videos share the slot's media budget (the pipeline's text reserve kept free)
        contextSize: s.contextSize, parts: mediaParts.length, hasToken, encoding: s.encoding,
      }, p.audio === true);
      framesSoFar += m.frames.length;
      media.push(m);
    }
    // subtitle cues are text too: the whole text checked against the slot before it is tokenized
    checkTextLength(req.messages, textCap(s.model, s.contextSize), media.reduce((n, m) => n + (m.read.video.cues ?? []).reduce((k, c) => k + c.text.length, 0), 0));
    const tPrepared = performance.now();
    const rendered = await renderRequest(s.model, req.messages, media, { tools: req.tools, template: s.options.chatTemplate });
    const { slot: used, prompt, cached, prefillMs } = await prefillSlot(s, rendered, media, signal, (taken) => { slot = taken; });
    // what the slot's KV holds now: the whole prompt, and nothing of earlier requests past it
    const kvTokens = used.sequence.nPast;
    s.metrics.stage.observe({ stage: 'prefill' }, prefillMs / 1000);
    const { g, parsed } = rendered.chat
      ? await generateWithTools(s.model, used.sequence, rendered.chat, req, signal, onPiece)
      : await generatePlain(used.sequence, req, signal, onPiece);
    s.metrics.stage.observe({ stage: 'generate' }, g.timings.generateMs / 1000);
    if (g.tokens.generated > 0) s.metrics.tokensPerSecond.observe(g.timings.tokensPerSecond);
    s.metrics.promptTokens.inc(prompt);
    s.metrics.cachedTokens.inc(cached);
    s.metrics.completionTokens.inc(g.tokens.generated);
    return {
      text: parsed ? parsed.content : g.text,
      ...(parsed && parsed.toolCalls.length > 0 ? { toolCalls: parsed.toolCalls } : {}),
      finishReason: parsed && parsed.toolCalls.length > 0 && finishReason(g.stopReason) === 'stop' ? 'tool_calls' : finishReason(g.stopReason),
      usage: { prompt, cached, completion: g.tokens.generated },
      media: media.map((m) => ({
        strategy: m.strategy, frames: m.frames, duration: m.duration, visual_tokens: m.visual, decoded: m.read.decoded, encoded: m.encoded, cached: m.cached,
        audio_chunks: m.audioChunks, subtitle_cues: m.cues, ...(m.warnings.length > 0 ? { warnings: m.warnings } : {}),
        ...(m.remote ? { remote: m.remote } : {}),
      })),
      timings: { queue_ms: tQueue - t0, prepare_ms: tPrepared - tQueue, prefill_ms: prefillMs, first_token_ms: g.timings.firstTokenMs, generate_ms: g.timings.generateMs },
      slot: used.id,
      kvTokens,
    };
  } catch (e) {
    // what the KV holds after a failure is not known: the slot starts over
    if (slot) {
      slot.held = [];
      if (!slot.sequence.context.disposed) await slot.sequence.truncate(0).catch(() => {});
    }
    if (e instanceof VidlmError || e instanceof HttpError) throw e;
    if (signal.aborted) throw new VidlmError('ERR_ABORTED', `aborted: ${String((signal.reason as Error)?.message ?? signal.reason)}`, undefined, { cause: e });
    throw e;
  } finally {
    s.pool.release(slot);
  }
}
