/**
 * Multi-turn chat about one video with the video kept in the KV cache. The video prefix is
 * evaluated once when the chat starts; each question evaluates only its own tokens; fork()
 * asks from the same point on another KV sequence without evaluating anything again.
 */
import type { PlanItem, SequencePlan } from '../assembly/types.js';
import { isEmbeddingItem } from '../assembly/types.js';
import { VidlmError } from '../errors.js';
import type { ChatMessage } from '../model.js';
import { invalid, optionalSignal } from '../options.js';
import { SerialQueue } from '../serial.js';
import type { Context, ContextPlan, GenerateOptions, TokensItem } from './context.js';
import type { EncodableFrame } from './encode.js';
import type { MediaAudio } from '../audio/media.js';
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

/**
 * Shared by a chat and its forks: the context, its free KV sequences, and how many of the chats
 * are still open. A context the chat created is disposed with the last of them.
 */
class Family {
  readonly context: Context;
  readonly ownsContext: boolean;
  #free: number[];
  #open = 1;
  constructor(context: Context, ownsContext: boolean) {
    this.context = context;
    this.ownsContext = ownsContext;
    this.#free = Array.from({ length: context.sequences - 1 }, (_, i) => i + 1);
  }
  take(): number {
    const s = this.#free.shift();
    if (s === undefined) {
      throw new VidlmError('ERR_CONTEXT_FULL', `no free KV sequence for another fork (the context has ${this.context.sequences}): dispose a fork or create the context with more \`sequences\``,
        { sequences: this.context.sequences });
    }
    this.#open++;
    return s;
  }
  /** A chat is done with sequence `s` (null when it could not be given back). */
  close(s: number | null): void {
    if (s !== null) this.#free.push(s);
    if (--this.#open === 0 && this.ownsContext) this.context.dispose();
  }
}

export class Chat {
  readonly context: Context;
  readonly sequence: number;
  #model: ChatModel;
  #history: ChatMessage[];
  #pending: ContextPlan | null; // first turn: template text after the video, with QUESTION inside
  #family: Family;
  #turns = new SerialQueue(); // this chat's turns, forks and disposal, in call order
  #closing = false;

  private constructor(model: ChatModel, family: Family, sequence: number, history: ChatMessage[], pending: ContextPlan | null) {
    this.#model = model;
    this.context = family.context;
    this.sequence = sequence;
    this.#history = history;
    this.#pending = pending;
    this.#family = family;
  }

  /** The conversation so far; the video appears as the model's media marker. */
  get history(): readonly ChatMessage[] { return this.#history; }

  /** `ownsContext`: the chat disposes the context when it and its forks are disposed. */
  static async start(model: ChatModel, context: Context, video: SequencePlan, opts: ChatStartOptions = {}, own: { ownsContext?: boolean } = {}): Promise<{ chat: Chat; evaluated: number; ms: number }> {
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
    const history: ChatMessage[] = messages.map((m) => ({ ...m, content: m.content }));
    let evaluated = 0, ms = 0;
    if (prefix.length > 0) {
      const r = await context.prefill(prefix, { sequence: 0, signal: opts.signal, onProgress: opts.onProgress });
      evaluated = r.evaluated;
      ms = r.ms;
    }
    return { chat: new Chat(model, new Family(context, own.ownsContext ?? false), 0, history, rest), evaluated, ms };
  }

  /**
   * A chat whose video goes through the model's own media path (Context.prefillMedia: libmtmd's
   * tokenizer, encoder and positions, M-RoPE and temporal frame merging included): the user turn
   * is one media marker per frame, a newline, then the question. The prefix up to the last
   * marker is evaluated now; the question waits for ask().
   */
  static async startMedia(model: ChatModel, context: Context, frames: readonly (EncodableFrame | MediaAudio)[], opts: Omit<ChatStartOptions, 'userTurn'> & { mergeable?: boolean; mediaContent?: (marker: string) => string } = {},
    own: { ownsContext?: boolean } = {}): Promise<{ chat: Chat; evaluated: number; ms: number; mediaTokens: number }> {
    if (context.nPast(0) !== 0) throw new VidlmError('ERR_INVALID_ARG', 'a chat needs a fresh context');
    if (frames.length === 0) throw new VidlmError('ERR_INVALID_ARG', 'a media chat needs at least one frame');
    const marker = model.mediaMarker;
    const messages: ChatMessage[] = [...(opts.system ? [{ role: 'system', content: opts.system }] : []), { role: 'user', content: `${opts.mediaContent?.(marker) ?? marker.repeat(frames.length)}\n${QUESTION}` }];
    const rendered = model.applyTemplate(messages, { addAssistant: true });
    const cut = rendered.lastIndexOf(marker) + marker.length;
    const rest = rendered.slice(cut);
    if (rendered.split(marker).length !== frames.length + 1 || !rest.includes(QUESTION)) throw new VidlmError('ERR_TEMPLATE', 'the chat template changed the media markers');
    const r = await context.prefillMedia(rendered.slice(0, cut), frames, { sequence: 0, mergeable: opts.mergeable ?? true, signal: opts.signal, onProgress: opts.onProgress });
    const chat = new Chat(model, new Family(context, own.ownsContext ?? false), 0, messages, [{ text: rest }]);
    return { chat, evaluated: r.evaluated, ms: r.ms, mediaTokens: r.mediaTokens ?? 0 };
  }

  /**
   * Asks a question; iterate the result for the answer's pieces or await it for the summary.
   * Turns of one chat run in the order asked; a turn that fails (context full, aborted) changes
   * neither the history nor the KV cache.
   */
  ask(question: string, opts: GenerateOptions = {}): Generation & { readonly turn: Promise<TurnResult> } {
    if (this.#closing) throw new VidlmError('ERR_DISPOSED', 'the chat was disposed');
    if (typeof question !== 'string' || question.length === 0) throw invalid('question', 'a non-empty string', question);
    if (opts === null || typeof opts !== 'object') throw invalid('options', 'an object', opts);
    if (opts.sequence !== undefined) throw invalid('sequence', 'left out (a chat asks on its own sequence)', opts.sequence);
    const signal = optionalSignal('signal', opts.signal);
    const params = this.context.generateParams(opts);
    let resolveTurn!: (t: TurnResult) => void, rejectTurn!: (e: unknown) => void;
    const turn = new Promise<TurnResult>((res, rej) => { resolveTurn = res; rejectTurn = rej; });
    turn.catch(() => {});
    const gen = new Generation((onPiece) => this.#turns.run(async () => {
      if (this.#closing) throw new VidlmError('ERR_DISPOSED', 'the chat was disposed');
      const { plan, history } = this.#next(question);
      const r = await this.context.turn(plan, this.sequence, params, signal, onPiece);
      this.#history = [...history, { role: 'assistant', content: r.generation.text }];
      this.#pending = null;
      return { ...r.generation, evaluated: r.prefill.evaluated, nPast: this.context.nPast(this.sequence), prefillMs: r.prefill.ms };
    }).then((result) => { resolveTurn(result); return result; }, (e: unknown) => { rejectTurn(e); throw e; }));
    return Object.assign(gen, { turn });
  }

  /** The plan of the next turn and the history with its question, committed only if the turn succeeds. */
  #next(question: string): { plan: ContextPlan; history: ChatMessage[] } {
    const user: ChatMessage = { role: 'user', content: question };
    if (this.#pending) {
      const last = this.#history[this.#history.length - 1]!;
      return {
        plan: this.#pending.map((p) => ('text' in p ? { ...p, text: p.text.replaceAll(QUESTION, question) } : p)),
        history: [...this.#history.slice(0, -1), { ...last, content: last.content.replaceAll(QUESTION, question) }],
      };
    }
    return { plan: [{ text: this.#model.formatTurn(this.#history, user) }], history: [...this.#history, user] };
  }

  /** A new chat from this point of the conversation, on its own KV sequence; nothing is evaluated again. */
  fork(): Promise<Chat> {
    if (this.#closing) return Promise.reject(new VidlmError('ERR_DISPOSED', 'the chat was disposed'));
    return this.#turns.run(async () => {
      const seq = this.#family.take();
      try {
        await this.context.copySequence(this.sequence, seq);
      } catch (e) {
        this.#family.close(seq);
        throw e;
      }
      return new Chat(this.#model, this.#family, seq, [...this.#history], this.#pending);
    });
  }

  /**
   * Frees this chat's KV sequence once its turns are done; the context the chat created goes with
   * the last of the chat and its forks.
   */
  dispose(): Promise<void> {
    if (this.#closing) return Promise.resolve();
    this.#closing = true;
    return this.#turns.run(async () => {
      let seq: number | null = null;
      try {
        if (!this.context.disposed) {
          await this.context.truncate(this.sequence, 0);
          seq = this.sequence;
        }
      } finally {
        this.#family.close(seq);
      }
    });
  }
}
