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
import type { Model, ModelInfo } from '../model.js';
import { invalid, optionalBool } from '../options.js';
import { composeUserTurn } from '../prompt/compose.js';
import { litaLocalizeQuestion } from '../prompt/lita.js';
import type { TimeEncodingOptions, TimeTokenMode } from '../time/encode.js';
import { parseTimes } from '../time/parse.js';
import { openVideo } from '../video/video.js';
import type { FitMode, SubtitleCue, VideoFrame, VideoInput, VideoProbe } from '../video/types.js';
import { chooseStrategy, defaultFrames, samplingPlan, visualTokens, type StrategyChoice } from './choose.js';
import { checkQuery, checkQuestion, checkVideoInput, type CheckedQuery } from './options.js';
import { stageReporter, type ProgressListener } from './progress.js';
import { checkSubtitleSpec, loadSubtitles, type SubtitleSpec } from '../subtitles/load.js';
import { interleaveMarkers, subtitleTranscript, withTranscript } from '../subtitles/prompt.js';
import { temporalMerge } from '../subtitles/cues.js';
import { checkAudioOption, orderedMedia, readAudioMedia, stepContent, type AudioMedia, type AudioOption } from '../audio/media.js';
import { audioBudgetError, audioSpan } from '../audio/check.js';

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
  /** chat(): KV sequences of its context, the chat and its forks at once (default 4; ask uses 1). */
  sequences?: number;
  /** How frames are fitted to the encoder's square input. Default 'pad'. */
  fit?: FitMode;
  /** Subtitle cues in the prompt at their times: true (the default track), a language tag, a
   *  stream index or a .srt/.vtt/.ass file. A missing or broken track is a warning. */
  subtitles?: SubtitleSpec;
  /** The sound track into the model (needs model.info.audio): true / 'interleave' puts each
   *  window's audio after its frames, 'prefix' all the audio before the frames. */
  audio?: AudioOption;
  /** Seconds of audio per interleaved chunk (default 2, Qwen2.5-Omni's). */
  audioWindow?: number;
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

/** The most frames whose visual tokens fit in `budget` (Infinity for native: libmtmd counts them itself). */
function framesThatFit(strategy: StrategyName, info: ModelInfo, budget: number): number {
  if (strategy === 'native') return Infinity;
  let lo = 0, hi = 10_000;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (visualTokens(strategy, mid, info) <= budget) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/** Fewest frames an fps plan gives on this video: known before decoding when the duration is. */
function fpsFramesAtLeast(fps: number, probe: VideoProbe, segment?: [number, number]): number {
  const start = segment?.[0] ?? 0;
  const end = Math.min(segment?.[1] ?? probe.duration, probe.duration);
  const rate = Math.min(fps, probe.video?.avgFps || fps); // a frame is never returned twice
  return Math.max(1, Math.floor((end - start) * rate) - 1);
}

function contextFull(strategy: StrategyName, frames: number, info: ModelInfo, contextSize: number, reserve: number): VidlmError {
  const planned = visualTokens(strategy, frames, info);
  return new VidlmError('ERR_CONTEXT_FULL', `${strategy} with ${frames} frames needs ${planned} visual tokens; the context holds ${contextSize} (keep ${reserve} for the text): use fewer frames, a pooling strategy or a larger contextSize`,
    { strategy, frames, visualTokens: planned, contextSize });
}

async function prepare(input: VideoInput, q: CheckedQuery, userTurnOf: UserTurnOf): Promise<Prepared> {
  const { model, contextSize } = q;
  const signal = q.guard.signal;
  const info = model.info;
  throwIfAborted(signal);

  checkSubtitleSpec(q.subtitles);
  let audioOpt = checkAudioOption(q.audio, q.audioWindow, info);
  let audio: AudioMedia | null = null;
  const t0 = performance.now();
  const source = await openVideo(input, { signal, allowAudioOnly: info.audio });
  let frames: VideoFrame[];
  let warning: string | undefined;
  let cues: SubtitleCue[] = [];
  let duration: number;
  let strategy: StrategyName;
  try {
    const isImage = source.probe.isImage;
    duration = source.probe.duration;
    if (!isImage && q.segment && duration > 0 && q.segment[0] >= duration) {
      throw new VidlmError('ERR_INVALID_ARG', `segment [${q.segment.join(', ')}] starts at or after the end of the video (${duration} s)`,
        { option: 'segment', segment: q.segment, duration });
    }
    const reserve = reserveFor(contextSize);
    // an audio file (no picture) with an audio model: the sound alone, through libmtmd
    const audioOnly = !source.probe.video || !info.vision;
    if (audioOnly) audioOpt ??= checkAudioOption('prefix', q.audioWindow, info);
    if (source.probe.video && !info.vision) warning = 'the model has no vision encoder: only the sound was used';
    strategy = audioOnly ? 'native' : chooseStrategy(q.strategy, info, contextSize - reserve, isImage ? 1 : q.frames);
    if (audioOpt && strategy !== 'native') throw new VidlmError('ERR_UNSUPPORTED', "the option 'audio' goes through the model's own media path: use strategy 'native'", { option: 'audio', strategy });
    const native = strategy === 'native';
    if (native && (q.timeTokens !== 'none' || q.preamble)) {
      throw new VidlmError('ERR_UNSUPPORTED', 'the native strategy gives the frames to the model as its own media: time tokens and the time preamble need a pooling strategy');
    }
    const fps = isImage ? undefined : q.fps;
    const count = isImage ? 1 : q.frames ?? defaultFrames(strategy);
    // the budget is checked before decoding: by count, or by the least an fps plan gives
    const maxFrames = framesThatFit(strategy, info, contextSize - reserve);
    const expected = fps === undefined ? count : duration > 0 ? fpsFramesAtLeast(fps, source.probe, q.segment) : 0;
    if (expected > maxFrames) throw contextFull(strategy, expected, info, contextSize, reserve);
    if (audioOpt) {
      const e = audioBudgetError(audioOpt, source.probe, info, audioOnly ? 0 : expected, contextSize - reserve, q.segment);
      if (e) throw e;
    }
    const plan = isImage || audioOnly ? { uniform: 1 } : samplingPlan(strategy, count, fps, q.segment);
    // Images reach libmtmd at their own size (its preprocessing, as llama-mtmd-cli); video frames at the encoder's.
    const size = isImage || !info.imageSize ? undefined : ([info.imageSize, info.imageSize] as [number, number]);
    const report = stageReporter(q.onProgress, 'decode');
    frames = [];
    if (!audioOnly) for await (const f of source.frames(plan, { size, fit: q.fit, signal })) {
      frames.push(f);
      // an fps plan on a video of unknown length stops as soon as it cannot fit
      if (frames.length > maxFrames) throw contextFull(strategy, frames.length, info, contextSize, reserve);
      report?.(Math.min(1, frames.length / count));
    }
    if (frames.length < count && !isImage && !audioOnly && fps === undefined) warning = `the video has ${frames.length} of the ${count} frames asked for`;
    if (audioOpt) {
      audio = await readAudioMedia(source, audioOpt, frames.map((f) => f.t), audioSpan(source.probe, q.segment), info.audioSampleRate ?? 16000, signal);
      if (audio.warnings.length > 0) warning = [warning, ...audio.warnings].filter(Boolean).join('; ');
    }
    const subs = await loadSubtitles(source, q.subtitles, signal);
    cues = subs.track?.cues ?? [];
    if (subs.warnings.length > 0) warning = [warning, ...subs.warnings].filter(Boolean).join('; ');
  } finally {
    await source.close();
  }
  const decodeMs = performance.now() - t0;
  if (frames.length === 0 && !audio?.chunks.length) throw new VidlmError('ERR_VIDEO_EMPTY', 'no frames could be sampled from the video');

  // the chat owns its context: disposing the chat frees it
  const ctx = await model.createContext({ contextSize, sequences: q.sequences });
  try {
    if (strategy === 'native') {
      // the model's own media path: libmtmd encodes inside the prefill (M-RoPE, frame pairs merged)
      const times = frames.map((f) => f.t);
      const media = audio ? orderedMedia(audio.steps, frames, audio.chunks) : frames;
      const group = temporalMerge(info.projectorType);
      const mediaContent = audio ? (marker: string) => stepContent(marker, audio!.steps, times, cues, q.segment, group)
        : cues.length > 0 ? (marker: string) => interleaveMarkers(marker, times, cues, q.segment, group) : undefined;
      const started = await Chat.startMedia(model, ctx, media, { system: q.system, signal, onProgress: stageReporter(q.onProgress, 'prefill'), mediaContent }, { ownsContext: true });
      return { chat: started.chat, prefixTokens: started.evaluated, prefixMs: started.ms, strategy, visual: started.mediaTokens, frames, duration, decodeMs, encodeMs: 0, warning };
    }
    const { grids, stats } = await model.encodeWithStats(frames, {
      source: await sourceIdentity(input), batchSize: q.encodeBatchSize, signal, onProgress: stageReporter(q.onProgress, 'encode'),
    });
    const hasToken = (tok: string) => ctx.tokenize(tok).length === 1;
    const video = assemble(strategy, grids, {
      timeTokens: q.timeTokens, duration: duration > 0 ? duration : undefined, timeFormat: q.timeFormat, litaSpelling: q.litaSpelling, hasToken,
    } as never);
    const visual = video.reduce((n, it) => n + ('count' in it ? it.count : 0), 0);
    const started = await Chat.start(model, ctx, video, {
      system: q.system, signal, onProgress: stageReporter(q.onProgress, 'prefill'),
      userTurn: withTranscript(userTurnOf, subtitleTranscript(frames.map((f) => f.t), cues, q.segment))(video, duration, frames.map((f) => f.t), strategy),
    }, { ownsContext: true });
    return { chat: started.chat, prefixTokens: started.evaluated, prefixMs: started.ms, strategy, visual, frames, duration, decodeMs, encodeMs: stats.ms, warning };
  } catch (e) {
    ctx.dispose();
    throw e;
  }
}

/** The user turn of each method: the video then the question; Video-ChatGPT puts the question first. */
function userTurnFor(preamble: boolean): UserTurnOf {
  return (video, duration, times, strategy) => (q) =>
    composeUserTurn(video, q, { preamble: preamble ? { duration, times } : null, questionFirst: strategy === 'vcgpt' });
}

async function run(input: VideoInput, question: string, o: VideoQueryOptions): Promise<AskResult> {
  checkVideoInput(input);
  checkQuestion('question', question);
  const q = checkQuery(o, { sequences: 1 });
  return q.guard.run(async () => {
    const p = await prepare(input, q, userTurnFor(q.preamble));
    try {
      const gen = p.chat.ask(question, { ...q.generate, signal: q.guard.signal });
      const report = stageReporter(q.onProgress, 'generate');
      const maxTokens = q.generate.maxTokens ?? 256;
      let n = 0;
      for await (const piece of gen) {
        q.onToken?.(piece);
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
      await p.chat.dispose();
    }
  });
}

/** Answers a question about a video (or image) file, Buffer or URL. */
export function ask(video: VideoInput, question: string, options: VideoQueryOptions): Promise<AskResult> {
  return run(video, question, options);
}

/** A detailed description of the video. */
export async function describe(video: VideoInput, options: VideoQueryOptions & { prompt?: string }): Promise<AskResult> {
  const prompt = options?.prompt === undefined ? 'Describe this video in detail.' : checkQuestion('prompt', options.prompt);
  return run(video, prompt, options);
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
  checkQuestion('event', query);
  if (!options || typeof options !== 'object') throw invalid('options', 'an object with a model', options);
  const constrain = optionalBool('constrain', options.constrain, true);
  const timeTokens = options.timeTokens ?? 'lita';
  const ownFormat = options.grammar !== undefined || options.jsonSchema !== undefined;
  const grammar = ownFormat || !constrain ? options.grammar : spanGrammar(timeTokens, options.litaSpelling);
  const r = await run(video, litaLocalizeQuestion(query), { ...options, strategy: options.strategy ?? 'slowfast', timeTokens, grammar });
  const spans = parseTimes(r.text, { duration: r.duration > 0 ? r.duration : undefined, mode: timeTokens === 'lita' ? 'lita' : 'text' });
  return { ...r, start: spans[0]?.start ?? null, end: spans[0]?.end ?? null };
}

/**
 * A multi-turn chat about a video: the video is evaluated once, each question only adds its own
 * tokens. Its context has `sequences` KV sequences (default 4: the chat and three forks at once)
 * and goes when the chat and its forks are disposed.
 */
export async function chat(video: VideoInput, options: VideoQueryOptions): Promise<Chat> {
  checkVideoInput(video);
  const q = checkQuery(options, { sequences: 4 });
  return q.guard.run(() => prepare(video, q, userTurnFor(q.preamble))).then((p) => p.chat);
}
