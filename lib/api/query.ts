/**
 * The high-level video questions: ask, describe, localize and chat. Each runs the whole
 * pipeline: open and sample the video, encode frames (cached), assemble the tokens with a
 * method of the papers, prompt with the model's chat template, generate, parse times.
 */
import { stat } from 'node:fs/promises';
import { assemble } from '../assembly/index.js';
import type { SequencePlan, StrategyName } from '../assembly/types.js';
import { VidlmError, throwIfAborted } from '../errors.js';
import { Chat, type TurnResult } from '../inference/chat.js';
import type { GenerateOptions } from '../inference/context.js';
import type { Model } from '../model.js';
import { invalid, optionalInt, optionalNumber, optionalSignal } from '../options.js';
import { composeUserTurn } from '../prompt/compose.js';
import { litaLocalizeQuestion } from '../prompt/lita.js';
import type { TimeEncodingOptions, TimeTokenMode } from '../time/encode.js';
import { parseTimes } from '../time/parse.js';
import { openVideo } from '../video/video.js';
import type { FitMode, VideoFrame, VideoInput } from '../video/types.js';
import { chooseStrategy, defaultFrames, samplingPlan, visualTokens, type StrategyChoice } from './choose.js';
import { stageReporter, type ProgressListener } from './progress.js';

export interface VideoQueryOptions extends Omit<GenerateOptions, 'sequence' | 'signal'> {
  /** The loaded model (with its mmproj). */
  model: Model;
  /** Token assembly method; 'auto' (default) picks one that fits the context. */
  strategy?: StrategyChoice;
  /** Frames to sample; default: the method's own number (LITA 100, PLLaVA 16, Video-LLaVA 8…). */
  frames?: number;
  /** Sample at this rate instead of a frame count. */
  fps?: number;
  /** Only this part of the video, [start, end] in seconds. */
  segment?: [number, number];
  /** How the model is told when each frame was taken. Default 'none'. */
  timeTokens?: TimeTokenMode;
  timeFormat?: TimeEncodingOptions['timeFormat'];
  litaSpelling?: TimeEncodingOptions['litaSpelling'];
  /** State duration and frame times in the prompt (LLaVA-Video's time instruction). */
  preamble?: boolean;
  system?: string;
  /** KV cache size; default 4096 or the model's trained length if smaller. */
  contextSize?: number;
  /** Frames per encoder batch. */
  encodeBatchSize?: number;
  /** How frames are fitted to the encoder's square input. Default 'pad'. */
  fit?: FitMode;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Called with each piece of the answer as it is generated. */
  onToken?: (piece: string) => void;
}

export interface AskResult {
  text: string;
  strategy: StrategyName;
  stopReason: TurnResult['stopReason'];
  tokens: { prompt: number; visual: number; generated: number };
  timings: { decodeMs: number; encodeMs: number; prefillMs: number; firstTokenMs: number; generateMs: number };
  frames: { index: number; t: number }[];
  duration: number;
  /** Set when sampling was clamped (more frames asked than the video has). */
  warning?: string;
}

export interface LocalizeResult extends AskResult {
  /** The first time span in the answer, in seconds; null when the answer names none. */
  start: number | null;
  end: number | null;
}

/** Tokens kept free for the question, the template and the answer. */
const reserveFor = (contextSize: number) => Math.min(256, Math.floor(contextSize / 4));

type UserTurnOf = (video: SequencePlan, duration: number, times: number[], strategy: StrategyName) => (q: string) => SequencePlan;

interface Prepared {
  chat: Chat;
  /** Tokens and time of the video prefix, evaluated when the chat started. */
  prefixTokens: number;
  prefixMs: number;
  strategy: StrategyName;
  visual: number;
  frames: VideoFrame[];
  duration: number;
  decodeMs: number;
  encodeMs: number;
  warning?: string;
}

async function sourceIdentity(input: VideoInput): Promise<string | undefined> {
  if (typeof input !== 'string') return undefined;
  try {
    const st = await stat(input);
    return `${input}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

function checkOptions(o: VideoQueryOptions): void {
  if (!o || typeof o !== 'object') throw invalid('options', 'an object with a model', o);
  if (!o.model || typeof o.model.encode !== 'function') throw invalid('model', 'a Model from loadModel()', o.model);
  if (!o.model.info.vision) throw new VidlmError('ERR_UNSUPPORTED', 'the model has no vision encoder: load it with its mmproj');
  optionalInt('frames', o.frames, 1, 10_000, 1);
  if (o.fps !== undefined) optionalNumber('fps', o.fps, 0.001, 240, 1);
  optionalSignal('signal', o.signal);
  if (o.segment !== undefined && (!Array.isArray(o.segment) || o.segment.length !== 2 || !(o.segment[0] < o.segment[1]))) {
    throw invalid('segment', '[start, end] with start < end', o.segment);
  }
}

async function prepare(input: VideoInput, o: VideoQueryOptions, userTurnOf: UserTurnOf): Promise<Prepared> {
  checkOptions(o);
  const { model, signal } = o;
  const info = model.info;
  const contextSize = optionalInt('contextSize', o.contextSize, 64, 1 << 24, Math.min(4096, info.nCtxTrain || 4096));
  throwIfAborted(signal);

  const t0 = performance.now();
  const source = await openVideo(input, { signal });
  let frames: VideoFrame[];
  let warning: string | undefined;
  let duration: number;
  let strategy: StrategyName;
  try {
    const isImage = source.probe.isImage;
    duration = source.probe.duration;
    const reserve = reserveFor(contextSize);
    strategy = chooseStrategy(o.strategy ?? 'auto', info, contextSize - reserve, isImage ? 1 : o.frames);
    const native = strategy === 'native';
    if (native && ((o.timeTokens ?? 'none') !== 'none' || o.preamble)) {
      throw new VidlmError('ERR_UNSUPPORTED', 'the native strategy gives the frames to the model as its own media: time tokens and the time preamble need a pooling strategy');
    }
    const count = isImage ? 1 : o.frames ?? defaultFrames(strategy);
    // native: libmtmd's preprocessing decides the grid, and prefillMedia checks the context itself
    const planned = native ? 0 : visualTokens(strategy, count, info);
    if (planned + reserve > contextSize && o.fps === undefined) {
      throw new VidlmError('ERR_CONTEXT_FULL', `${strategy} with ${count} frames needs ${planned} visual tokens; the context holds ${contextSize} (keep ${reserve} for the text): use fewer frames, a pooling strategy or a larger contextSize`,
        { strategy, frames: count, visualTokens: planned, contextSize });
    }
    const plan = isImage ? { uniform: 1 } : samplingPlan(strategy, count, o.fps, o.segment);
    // Images reach libmtmd at their own size (its preprocessing, as llama-mtmd-cli); video frames at the encoder's.
    const size = isImage || !info.imageSize ? undefined : ([info.imageSize, info.imageSize] as [number, number]);
    const report = stageReporter(o.onProgress, 'decode');
    frames = [];
    for await (const f of source.frames(plan, { size, fit: o.fit ?? 'pad', signal })) {
      frames.push(f);
      report?.(Math.min(1, frames.length / count));
    }
    if (frames.length < count && !isImage) warning = `the video has ${frames.length} of the ${count} frames asked for`;
  } finally {
    await source.close();
  }
  const decodeMs = performance.now() - t0;
  if (frames.length === 0) throw new VidlmError('ERR_VIDEO_EMPTY', 'no frames could be sampled from the video');

  if (strategy === 'native') {
    // the model's own media path: libmtmd encodes inside the prefill (M-RoPE, frame pairs merged)
    const ctx = await model.createContext({ contextSize });
    const started = await Chat.startMedia(model, ctx, frames, { system: o.system, signal, onProgress: stageReporter(o.onProgress, 'prefill') });
    return { chat: started.chat, prefixTokens: started.evaluated, prefixMs: started.ms, strategy, visual: started.mediaTokens, frames, duration, decodeMs, encodeMs: 0, warning };
  }

  const { grids, stats } = await model.encodeWithStats(frames, {
    source: await sourceIdentity(input), batchSize: o.encodeBatchSize, signal, onProgress: stageReporter(o.onProgress, 'encode'),
  });
  const ctx = await model.createContext({ contextSize });
  const hasToken = (tok: string) => ctx.tokenize(tok).length === 1;
  const video = assemble(strategy, grids, {
    timeTokens: o.timeTokens, duration: duration > 0 ? duration : undefined, timeFormat: o.timeFormat, litaSpelling: o.litaSpelling, hasToken,
  } as never);
  const visual = video.reduce((n, it) => n + ('count' in it ? it.count : 0), 0);
  const started = await Chat.start(model, ctx, video, {
    system: o.system, signal, onProgress: stageReporter(o.onProgress, 'prefill'),
    userTurn: userTurnOf(video, duration, frames.map((f) => f.t), strategy),
  });
  return { chat: started.chat, prefixTokens: started.evaluated, prefixMs: started.ms, strategy, visual, frames, duration, decodeMs, encodeMs: stats.ms, warning };
}

/** The user turn of each method: the video then the question; Video-ChatGPT puts the question first. */
function userTurnFor(o: VideoQueryOptions): UserTurnOf {
  return (video, duration, times, strategy) => (q) =>
    composeUserTurn(video, q, { preamble: o.preamble ? { duration, times } : null, questionFirst: strategy === 'vcgpt' });
}

async function run(input: VideoInput, question: string, o: VideoQueryOptions): Promise<AskResult> {
  if (typeof question !== 'string' || question.trim() === '') throw invalid('question', 'a non-empty string', question);
  const p = await prepare(input, o, userTurnFor(o));
  try {
    const gen = p.chat.ask(question, { ...o, signal: o.signal });
    const report = stageReporter(o.onProgress, 'generate');
    const maxTokens = o.maxTokens ?? 256;
    let n = 0;
    for await (const piece of gen) {
      o.onToken?.(piece);
      report?.(Math.min(1, ++n / maxTokens));
    }
    const turn = await gen.turn;
    report?.(1);
    return {
      text: turn.text,
      strategy: p.strategy,
      stopReason: turn.stopReason,
      tokens: { prompt: p.prefixTokens + turn.evaluated, visual: p.visual, generated: turn.tokens.generated },
      timings: {
        decodeMs: p.decodeMs, encodeMs: p.encodeMs, prefillMs: p.prefixMs + turn.prefillMs,
        firstTokenMs: turn.timings.firstTokenMs, generateMs: turn.timings.generateMs,
      },
      frames: p.frames.map((f) => ({ index: f.index, t: f.t })),
      duration: p.duration,
      ...(p.warning ? { warning: p.warning } : {}),
    };
  } finally {
    p.chat.context.dispose();
  }
}

/** Answers a question about a video (or image) file, Buffer or URL. */
export function ask(video: VideoInput, question: string, options: VideoQueryOptions): Promise<AskResult> {
  return run(video, question, options);
}

/** A detailed description of the video. */
export function describe(video: VideoInput, options: VideoQueryOptions & { prompt?: string }): Promise<AskResult> {
  return run(video, options.prompt ?? 'Describe this video in detail.', options);
}

/** GBNF of a start-end answer: LITA's `<t12> <t35>` (released spelling) or `12.5s - 20s`. */
export function spanGrammar(mode: TimeTokenMode, spelling: TimeEncodingOptions['litaSpelling'] = 'released'): string {
  if (mode === 'lita') {
    return spelling === 'paper'
      ? 'root ::= tok " " tok\ntok ::= "<" ([1-9] | [1-9] [0-9] | "100") ">"'
      : 'root ::= tok " " tok\ntok ::= "<t" ([0-9] | [1-9] [0-9]) ">"';
  }
  return 'root ::= num "s - " num "s"\nnum ::= [0-9] [0-9]? [0-9]? [0-9]? ("." [0-9])?';
}

/**
 * When does `query` happen? Asks with LITA's localization prompt (default: SlowFast tokens and
 * LITA time tokens) and parses the answer's first time span back to seconds. With `constrain`
 * (default true) a grammar holds the answer to the start-end format, so it always parses.
 */
export async function localize(video: VideoInput, query: string, options: VideoQueryOptions & { constrain?: boolean }): Promise<LocalizeResult> {
  const timeTokens = options.timeTokens ?? 'lita';
  const grammar = options.grammar ?? (options.constrain === false ? undefined : spanGrammar(timeTokens, options.litaSpelling));
  const r = await run(video, litaLocalizeQuestion(query), { strategy: 'slowfast', ...options, timeTokens, grammar });
  const spans = parseTimes(r.text, { duration: r.duration > 0 ? r.duration : undefined, mode: timeTokens === 'lita' ? 'lita' : 'text' });
  return { ...r, start: spans[0]?.start ?? null, end: spans[0]?.end ?? null };
}

/** A multi-turn chat about a video: the video is evaluated once, each question only adds its own tokens. */
export async function chat(video: VideoInput, options: VideoQueryOptions): Promise<Chat> {
  return (await prepare(video, options, userTurnFor(options))).chat;
}
