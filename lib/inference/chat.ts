/**
 * Multi-turn chat about one video with the video kept in the KV cache. The video prefix is
 * evaluated once when the chat starts; each question evaluates only its own tokens; fork()
 * asks from the same point on another KV sequence without evaluating anything again.
 */
import type { PlanItem, SequencePlan } from '../assembly/types.js';
import { isEmbeddingItem } from '../assembly/types.js';
import { VidlmError } from '../errors.js';
import type { ChatMessage } from '../model.js';
import type { Context, ContextPlan, GenerateOptions, TokensItem } from './context.js';
import type { EncodableFrame } from './encode.js';
import { Generation, type GenerateResult } from './generation.js';

/** What the chat needs of its model (kept narrow so tests can see what is used). */
export interface ChatModel {
  readonly mediaMarker: string;
  applyTemplate(messages: ChatMessage[], opts?: { addAssistant?: boolean }): string;
  formatTurn(history: ChatMessage[], message: ChatMessage): string;
  /** Tokens the model puts around each media block (empty for LLaVA). */
  readonly imageWrap: { before: Int32Array; after: Int32Array };
}

export interface ChatStartOptions {
  system?: string;
  /**
   * The user turn around the video, with `question` where the question goes: by default the
   * video, a newline, then the question.
   */
  userTurn?: (question: string) => SequencePlan;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export interface TurnResult extends GenerateResult {
  /** Tokens this turn evaluated before generating (its question and template text only, after the first). */
  evaluated: number;
  /** Position of the sequence after the turn. */
  nPast: number;
  prefillMs: number;
}

const QUESTION = '\u0000vidlm-question\u0000';

/** Shared between a chat and its forks: which KV sequences are free. */
class Sequences {
  #free: number[];
  constructor(n: number) { this.#free = Array.from({ length: n - 1 }, (_, i) => i + 1); }
  take(): number {
    const s = this.#free.shift();
    if (s === undefined) throw new VidlmError('ERR_CONTEXT_FULL', 'no free KV sequence for another fork: create the context with more `sequences`');
    return s;
  }
  give(s: number): void { this.#free.push(s); }
}

export class Chat {
  readonly context: Context;
  readonly sequence: number;
  #model: ChatModel;
  #history: ChatMessage[];
  #pending: ContextPlan | null; // first turn: template text after the video, with QUESTION inside
  #pool: Sequences;
  #disposed = false;

  private constructor(model: ChatModel, context: Context, sequence: number, history: ChatMessage[], pending: ContextPlan | null, pool: Sequences) {
    this.#model = model;
    this.context = context;
    this.sequence = sequence;
    this.#history = history;
    this.#pending = pending;
    this.#pool = pool;
  }

  /** The conversation so far; the video appears as the model's media marker. */
  get history(): readonly ChatMessage[] { return this.#history; }

  static async start(model: ChatModel, context: Context, video: SequencePlan, opts: ChatStartOptions = {}): Promise<{ chat: Chat; evaluated: number; ms: number }> {
    if (context.nPast(0) !== 0) throw new VidlmError('ERR_INVALID_ARG', 'a chat needs a fresh context');
    const turn = (opts.userTurn ?? ((q: string) => [...video, { text: `\n${q}` }]))(QUESTION);
    const marker = model.mediaMarker;
    // The user message as text, one marker per run of embeddings, for the chat template.
    const blocks: PlanItem[][] = [];
    let content = '';
    for (const item of turn) {
      if (isEmbeddingItem(item)) {
        if (!content.endsWith(marker) || blocks.length === 0) { content += marker; blocks.push([]); }
        blocks[blocks.length - 1]!.push(item);
      } else content += item.text;
    }
    const messages: ChatMessage[] = [...(opts.system ? [{ role: 'system', content: opts.system }] : []), { role: 'user', content }];
    const rendered = model.applyTemplate(messages, { addAssistant: true });
    const pieces = rendered.split(marker);
    if (pieces.length !== blocks.length + 1) throw new VidlmError('ERR_TEMPLATE', 'the chat template changed the media markers');
    const plan: (PlanItem | TokensItem)[] = [];
    pieces.forEach((text, i) => {
      if (text) plan.push({ text });
      const block = blocks[i];
      if (block) { plan.push({ tokens: model.imageWrap.before }, ...block, { tokens: model.imageWrap.after }); }
    });
    // Everything up to the end of the last video block is the prefix; the rest waits for the question.
    // (each block is followed by its wrap-after tokens item, hence + 2)
    const lastEmbedding = plan.reduce((at, p, i) => ('embeddings' in p ? i : at), -2);
    const cut = lastEmbedding + 2;
    let prefix = plan.slice(0, cut);
    let rest = plan.slice(cut);
    if (prefix.some((p) => 'text' in p && p.text.includes(QUESTION))) { rest = plan; prefix = []; } // question before the video
    const sequences = new Sequences(context.sequences);
    const history: ChatMessage[] = messages.map((m) => ({ ...m, content: m.content }));
    let evaluated = 0, ms = 0;
    if (prefix.length > 0) {
      const r = await context.prefill(prefix, { sequence: 0, signal: opts.signal, onProgress: opts.onProgress });
      evaluated = r.evaluated;
      ms = r.ms;
    }
    return { chat: new Chat(model, context, 0, history, rest, sequences), evaluated, ms };
  }

  /**
   * A chat whose video goes through the model's own media path (Context.prefillMedia: libmtmd's
   * tokenizer, encoder and positions, M-RoPE and temporal frame merging included): the user turn
   * is one media marker per frame, a newline, then the question. The prefix up to the last
   * marker is evaluated now; the question waits for ask().
   */
  static async startMedia(model: ChatModel, context: Context, frames: readonly EncodableFrame[], opts: Omit<ChatStartOptions, 'userTurn'> & { mergeable?: boolean } = {}): Promise<{ chat: Chat; evaluated: number; ms: number; mediaTokens: number }> {
    if (context.nPast(0) !== 0) throw new VidlmError('ERR_INVALID_ARG', 'a chat needs a fresh context');
    if (frames.length === 0) throw new VidlmError('ERR_INVALID_ARG', 'a media chat needs at least one frame');
    const marker = model.mediaMarker;
    const messages: ChatMessage[] = [...(opts.system ? [{ role: 'system', content: opts.system }] : []), { role: 'user', content: `${marker.repeat(frames.length)}\n${QUESTION}` }];
    const rendered = model.applyTemplate(messages, { addAssistant: true });
    const cut = rendered.lastIndexOf(marker) + marker.length;
    const rest = rendered.slice(cut);
    if (rendered.split(marker).length !== frames.length + 1 || !rest.includes(QUESTION)) throw new VidlmError('ERR_TEMPLATE', 'the chat template changed the media markers');
    const r = await context.prefillMedia(rendered.slice(0, cut), frames, { sequence: 0, mergeable: opts.mergeable ?? true, signal: opts.signal, onProgress: opts.onProgress });
    const chat = new Chat(model, context, 0, messages, [{ text: rest }], new Sequences(context.sequences));
    return { chat, evaluated: r.evaluated, ms: r.ms, mediaTokens: r.mediaTokens ?? 0 };
  }

  /** Asks a question; iterate the result for the answer's pieces or await it for the summary. */
  ask(question: string, opts: GenerateOptions = {}): Generation & { readonly turn: Promise<TurnResult> } {
    if (this.#disposed) throw new VidlmError('ERR_DISPOSED', 'the chat was disposed');
    if (typeof question !== 'string' || question.length === 0) throw new VidlmError('ERR_INVALID_ARG', 'question must be a non-empty string');
    let plan: ContextPlan;
    const user: ChatMessage = { role: 'user', content: question };
    if (this.#pending) {
      plan = this.#pending.map((p) => ('text' in p ? { ...p, text: p.text.replaceAll(QUESTION, question) } : p));
      const last = this.#history[this.#history.length - 1]!;
      this.#history = [...this.#history.slice(0, -1), { ...last, content: last.content.replaceAll(QUESTION, question) }];
      this.#pending = null;
    } else {
      plan = [{ text: this.#model.formatTurn(this.#history, user) }];
      this.#history = [...this.#history, user];
    }
    let resolveTurn!: (t: TurnResult) => void, rejectTurn!: (e: unknown) => void;
    const turn = new Promise<TurnResult>((res, rej) => { resolveTurn = res; rejectTurn = rej; });
    turn.catch(() => {});
    const gen = new Generation(async (onPiece) => {
      try {
        const pre = await this.context.prefill(plan, { sequence: this.sequence, signal: opts.signal, addBos: this.context.nPast(this.sequence) === 0 });
        const inner = this.context.generate({ ...opts, sequence: this.sequence });
        for await (const piece of inner) onPiece(piece);
        const r = await inner;
        this.#history = [...this.#history, { role: 'assistant', content: r.text }];
        const result: TurnResult = { ...r, evaluated: pre.evaluated, nPast: this.context.nPast(this.sequence), prefillMs: pre.ms };
        resolveTurn(result);
        return result;
      } catch (e) {
        rejectTurn(e);
        throw e;
      }
    });
    return Object.assign(gen, { turn });
  }

  /** A new chat from this point of the conversation, on its own KV sequence; nothing is evaluated again. */
  async fork(): Promise<Chat> {
    if (this.#disposed) throw new VidlmError('ERR_DISPOSED', 'the chat was disposed');
    const seq = this.#pool.take();
    await this.context.copySequence(this.sequence, seq);
    return new Chat(this.#model, this.context, seq, [...this.#history], this.#pending, this.#pool);
  }

  /** Frees this chat's KV sequence (the root chat's sequence stays until the context goes). */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.sequence !== 0) {
      await this.context.truncate(this.sequence, 0);
      this.#pool.give(this.sequence);
    }
  }
}
