/**
 * The high-level video questions: ask, describe, localize and chat. Each checks its options,
 * runs the pipeline (lib/pipeline: sample, encode, assemble, render, start a chat) and asks.
 */
import { CHAT_SEQUENCES, type Chat } from '../inference/chat.js';
import { invalid, optionalBool } from '../options.js';
import { prepare } from '../pipeline/index.js';
import { stageReporter } from '../pipeline/read.js';
import { litaLocalizeQuestion } from '../prompt/lita.js';
import type { TimeEncodingOptions, TimeTokenMode } from '../time/encode.js';
import { parseTimes } from '../time/parse.js';
import type { VideoInput } from '../video/types.js';
import { checkQuery, checkQuestion, checkVideoInput } from './options.js';
import type { AskResult, LocalizeResult, VideoQueryOptions } from './types.js';

export type { AskResult, LocalizeResult, VideoQueryOptions } from './types.js';

async function run(input: VideoInput, question: string, o: VideoQueryOptions): Promise<AskResult> {
  checkVideoInput(input);
  checkQuestion('question', question);
  const q = checkQuery(o, { sequences: 1 });
  return q.guard.run(async () => {
    const p = await prepare(input, { ...q, signal: q.guard.signal });
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
        tokens: { prompt: p.prefixTokens + turn.evaluated, visual: p.visual + (turn.mediaTokens ?? 0), generated: turn.tokens.generated },
        timings: {
          decodeMs: p.decodeMs, encodeMs: p.encodeMs, prefillMs: p.prefixMs + turn.prefillMs,
          firstTokenMs: turn.timings.firstTokenMs, generateMs: turn.timings.generateMs,
        },
        frames: p.frames.map((f, i) => ({ index: f.index, t: f.t, ...(p.reduced ? { until: p.reduced.until[i]! } : {}) })),
        duration: p.duration,
        ...(p.reduced ? { reduced: { sampled: p.reduced.sampled, kept: p.reduced.kept, pictures: p.reduced.same.filter((x) => x === undefined).length, codecPlan: p.reduced.codecPlan } } : {}),
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
  const q = checkQuery(options, { sequences: CHAT_SEQUENCES });
  // its sampling options (temperature, maxTokens, stop, grammar…) are each turn's, as they are ask()'s
  return q.guard.run(() => prepare(video, { ...q, signal: q.guard.signal })).then((p) => p.chat.setDefaults(q.generate));
}
