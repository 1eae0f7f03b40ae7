/**
 * The model's side of a watch: one context for the whole watch. Each window starts a chat on
 * it (model.chat with `context`), asks, and disposing the chat rewinds the sequence to empty,
 * so the next window reuses the same KV cache; no context is created per window.
 */
import type { SequencePlan } from '../assembly/types.js';
import type { Context } from '../inference/context.js';
import { Chat } from '../inference/chat.js';
import type { MediaInput } from '../inference/encode.js';
import { render } from '../pipeline/render.js';
import type { SubtitleCue } from '../video/types.js';
import type { GenerateOptions } from '../inference/generate-options.js';
import type { Model } from '../model.js';
import { composeUserTurn } from '../prompt/compose.js';
import type { WatchFrame } from './source.js';

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
  open(video: SequencePlan, q: Omit<WindowQuestion, 'kind' | 'question'>, signal: AbortSignal): Promise<WindowSession>;
  /** A window through libmtmd's media path: `items` one marker each, `content` places the markers among text (cues). */
  openMedia(items: readonly MediaInput[], content: ((marker: string) => string) | undefined, q: Omit<WindowQuestion, 'kind' | 'question'>, signal: AbortSignal): Promise<WindowSession>;
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

export class ModelResponder implements Responder {
  readonly context: Context;
  #model: Model;
  #system?: string;
  #base: GenerateOptions;
  #questionFirst: boolean;

  /** `questionFirst`: Video-ChatGPT's layout (the question before the video), as ask() does for vcgpt. */
  constructor(model: Model, context: Context, base: GenerateOptions, system: string | undefined, questionFirst: boolean) {
    this.#model = model;
    this.context = context;
    this.#base = base;
    this.#system = system;
    this.#questionFirst = questionFirst;
  }

  async open(video: SequencePlan, q: Omit<WindowQuestion, 'kind' | 'question'>, signal: AbortSignal): Promise<WindowSession> {
    const transcript = q.transcript ?? '';
    const chat: Chat = await this.#model.chat(video, {
      context: this.context, system: this.#system, signal,
      userTurn: (question) => composeUserTurn(video, `${transcript}${question}`, { questionFirst: this.#questionFirst }),
    });
    return this.#session(chat);
  }

  async openMedia(items: readonly MediaInput[], content: ((marker: string) => string) | undefined, _q: unknown, signal: AbortSignal): Promise<WindowSession> {
    const rendered = render(this.#model, { kind: 'media', frames: items, ...(content ? { content } : {}) }, { system: this.#system });
    const { chat } = await Chat.begin(this.#model, this.context, rendered, { signal });
    return this.#session(chat);
  }

  #session(chat: Chat): WindowSession {
    return {
      ask: async (_kind, question, params, s, onPiece) => {
        const gen = chat.ask(question, { ...this.#base, ...params, signal: s });
        if (onPiece) for await (const piece of gen) onPiece(piece);
        const turn = await gen.turn;
        return { text: turn.text, prompt: turn.nPast - turn.tokens.generated, generated: turn.tokens.generated, tokensPerSecond: turn.timings.tokensPerSecond };
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
  async openMedia(_items: readonly MediaInput[], _content: unknown, q: Omit<WindowQuestion, 'kind' | 'question'>): Promise<WindowSession> {
    return this.open([], q);
  }

  async open(_video: SequencePlan, q: Omit<WindowQuestion, 'kind' | 'question'>): Promise<WindowSession> {
    return {
      ask: async (kind, question, _params, signal, onPiece) => {
        const text = await this.#fn({ ...q, kind, question });
        if (signal.aborted) throw signal.reason;
        onPiece?.(text);
        return { text, prompt: 0, generated: 0, tokensPerSecond: 0 };
      },
      close: async () => undefined,
    };
  }
  async dispose(): Promise<void> { /* nothing held */ }
}
