/**
 * The model's side of a watch: one context for the whole watch. Each window starts a chat on
 * it (the pipeline's render, then Chat.begin), asks, and disposing the chat rewinds the sequence to empty,
 * so the next window reuses the same KV cache; no context is created per window.
 */
import type { Context } from '../inference/context.js';
import { Chat } from '../inference/chat.js';
import type { Assembled } from '../pipeline/assemble.js';
import { render } from '../pipeline/render.js';
import type { SubtitleCue } from '../video/types.js';
import type { GenerateOptions } from '../inference/generate-options.js';
import type { Model } from '../model.js';
import type { WatchFrame } from './source.js';
import { abortError } from '../errors.js';

export interface WindowQuestion {
  /** 'answer': the prompt or the yes/no question; 'localize': the follow-up asking for the event's span. */
  kind: 'answer' | 'localize';
  question: string;
  frames: readonly WatchFrame[];
  windowStart: number;
  windowEnd: number;
  /** Subtitle cues shown during the window (times from its start). */
  cues?: readonly SubtitleCue[];
  /** With sound: what the model is given, in order (frames and audio clips, each clip's PCM at the encoder's rate). */
  media?: readonly ({ kind: 'frame'; t: number } | { kind: 'audio'; samples: Float32Array })[];
  /** The pooled path's timed subtitle transcript, put before the question ('' without cues). */
  transcript?: string;
}

export interface Reply {
  text: string;
  prompt: number;
  generated: number;
  tokensPerSecond: number;
}

/** Answers one window's questions in order: `ask` first, then follow-ups on the same video. */
export interface Responder {
  /** A window's video as the pipeline's assemble stage made it (pooled items, or media for libmtmd). */
  open(video: Assembled, q: Omit<WindowQuestion, 'kind' | 'question'>, signal: AbortSignal): Promise<WindowSession>;
  dispose(): Promise<void>;
}

export interface WindowSession {
  ask(kind: WindowQuestion['kind'], question: string, params: GenerateOptions, signal: AbortSignal, onPiece?: (p: string) => void): Promise<Reply>;
  /** Rewinds the context for the next window. */
  close(): Promise<void>;
}

/** For LITA time tokens: does the model's vocabulary hold `tok` as one token (then it is sent as that token)? */
export function hasTokenOf(ctx: Context): (tok: string) => boolean {
  return (tok) => ctx.tokenize(tok).length === 1;
}

/** The model's answers: each window rendered and started as ask() starts its chat (render, Chat.begin), on the watch's one context. */
export class ModelResponder implements Responder {
  readonly context: Context;
  #model: Model;
  #system?: string;
  #base: GenerateOptions;

  constructor(model: Model, context: Context, base: GenerateOptions, system: string | undefined) {
    this.#model = model;
    this.context = context;
    this.#base = base;
    this.#system = system;
  }

  async open(video: Assembled, _q: unknown, signal: AbortSignal): Promise<WindowSession> {
    const rendered = render(this.#model, video, { system: this.#system });
    const { chat, evaluated } = await Chat.begin(this.#model, this.context, rendered, { signal });
    // tokens in the KV before each answer, as ask() counts them (with M-RoPE, positions are fewer)
    let held = evaluated - (video.kind === 'items' ? video.surplus ?? 0 : 0); // the native strategy counts positions (assemble.ts: surplus)
    return {
      ask: async (_kind, question, params, s, onPiece) => {
        const gen = chat.ask(question, { ...this.#base, ...params, signal: s });
        if (onPiece) for await (const piece of gen) onPiece(piece);
        const turn = await gen.turn;
        const prompt = held + turn.evaluated;
        held = prompt + turn.tokens.generated;
        return { text: turn.text, prompt, generated: turn.tokens.generated, tokensPerSecond: turn.timings.tokensPerSecond };
      },
      close: () => chat.dispose(),
    };
  }

  async dispose(): Promise<void> { this.context.dispose(); }
}

/** Stands in for the model's answers (tests, rule-based checks): gets the window's frames, returns the text. */
export type AnswerFn = (q: WindowQuestion) => string | Promise<string>;

export class FunctionResponder implements Responder {
  #fn: AnswerFn;
  constructor(fn: AnswerFn) { this.#fn = fn; }
  async open(_video: Assembled, q: Omit<WindowQuestion, 'kind' | 'question'>): Promise<WindowSession> {
    return {
      ask: async (kind, question, _params, signal, onPiece) => {
        const text = await this.#fn({ ...q, kind, question });
        if (signal.aborted) throw abortError(signal);
        onPiece?.(text);
        return { text, prompt: 0, generated: 0, tokensPerSecond: 0 };
      },
      close: async () => undefined,
    };
  }
  async dispose(): Promise<void> { /* nothing held */ }
}
