/**
 * Multi-turn chat about one video with the video kept in the KV cache. The video prefix is
 * evaluated once when the chat starts; each question evaluates only its own tokens; fork()
 * asks from the same point on another KV sequence without evaluating anything again.
 */
import { VidlmError } from '../errors.js';
import { invalid, optionalSignal } from '../options.js';
import { QUESTION, type ChatMessage, type ChatTemplate, type RenderedPrompt } from './prompt.js';
import { SerialQueue } from '../serial.js';
import { Sequence, type Context, type ContextPlan, type GenerateOptions } from './context.js';
import { Generation, type GenerateResult } from './generation.js';
import type { MediaChunkReport } from '../native.js';

/** KV sequences of a context a chat creates: the chat and three forks at once. */
export const CHAT_SEQUENCES = 4;

export interface TurnResult extends GenerateResult {
  /** Tokens this turn evaluated before generating (its question and template text only, after the first). */
  evaluated: number;
  /** Position of the sequence after the turn. */
  nPast: number;
  prefillMs: number;
  /** Embeddings libmtmd made of audio clips this turn evaluated (a pooled video after its question, Video-ChatGPT's layout). */
  mediaTokens?: number;
}

/**
 * Shared by a chat and its forks: the context, its free KV sequences, and how many of the chats
 * are still open. A context the chat created is disposed with the last of them.
 */
class Family {
  readonly context: Context;
  readonly ownsContext: boolean;
  #free: Sequence[];
  #open = 1;
  constructor(context: Context, ownsContext: boolean) {
    this.context = context;
    this.ownsContext = ownsContext;
    this.#free = Array.from({ length: context.sequences - 1 }, (_, i) => new Sequence(context, i + 1));
  }
  take(): Sequence {
    const s = this.#free.shift();
    if (s === undefined) {
      throw new VidlmError('ERR_CONTEXT_CREATE', `no free KV sequence for another fork (the context has ${this.context.sequences}, all in use): dispose a fork or create the context with more \`sequences\``,
        { sequences: this.context.sequences, inUse: this.#open });
    }
    this.#open++;
    return s;
  }
  /** A chat is done with sequence `s` (null when it could not be given back). */
  close(s: Sequence | null): void {
    if (s !== null) this.#free.push(s);
    if (--this.#open === 0 && this.ownsContext) this.context.dispose();
  }
}

export class Chat {
  readonly context: Context;
  #seq: Sequence;
  #model: ChatTemplate;
  #history: ChatMessage[];
  #pending: ContextPlan | null; // first turn: template text after the video, with QUESTION inside
  #family: Family;
  #turns = new SerialQueue(); // this chat's turns, forks and disposal, in call order
  #closing = false;
  #defaults: GenerateOptions = {}; // what chat() was given: each turn's options unless the turn says otherwise

  private constructor(model: ChatTemplate, family: Family, sequence: Sequence, history: ChatMessage[], pending: ContextPlan | null) {
    this.#model = model;
    this.context = family.context;
    this.#seq = sequence;
    this.#history = history;
    this.#pending = pending;
    this.#family = family;
  }

  /** The KV sequence of the context this chat runs on. */
  get sequence(): number { return this.#seq.id; }

  /** The conversation so far; the video appears as the model's media marker. */
  get history(): readonly ChatMessage[] { return this.#history; }

  /**
   * @internal Generation options every turn of this chat (and of its forks) starts from, as
   * chat(video, options) was given them; a turn's own options override them one by one (its
   * grammar or jsonSchema replaces both).
   */
  setDefaults(opts: GenerateOptions): this {
    const { signal: _s, sequence: _q, ...kept } = opts;
    this.#defaults = Object.fromEntries(Object.entries(kept).filter(([, v]) => v !== undefined));
    return this;
  }

  #withDefaults(opts: GenerateOptions): GenerateOptions {
    const own = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as GenerateOptions;
    const base = { ...this.#defaults };
    if (own.grammar !== undefined || own.jsonSchema !== undefined) { delete base.grammar; delete base.grammarPrefill; delete base.jsonSchema; }
    return { ...base, ...own };
  }

  /** @internal Evaluates a rendered prompt's prefix (lib/pipeline/render.ts) on sequence 0 of a fresh context and starts the chat on it. */
  static async begin(model: ChatTemplate, context: Context, rendered: RenderedPrompt, opts: { signal?: AbortSignal; onProgress?: (f: number) => void; mergeable?: boolean } = {},
    own: { ownsContext?: boolean } = {}): Promise<{ chat: Chat; evaluated: number; ms: number; mediaTokens: number; chunks?: MediaChunkReport[] }> {
    Chat.checkFresh(context);
    const seq = new Sequence(context, 0);
    const { prefix } = rendered;
    // pooled: mediaTokens are the audio clips among the frames
    const { evaluated, ms, mediaTokens = 0, chunks } = await seq.start(prefix, { mergeable: opts.mergeable ?? true, signal: opts.signal, onProgress: opts.onProgress });
    const chat = new Chat(model, new Family(context, own.ownsContext ?? false), seq, rendered.history, rendered.rest);
    return { chat, evaluated, ms, mediaTokens, ...(chunks ? { chunks } : {}) };
  }

  /** @internal */
  static checkFresh(context: Context): void {
    const used = context.nPast(0);
    if (used !== 0) throw new VidlmError('ERR_INVALID_STATE', `a chat needs a fresh context (sequence 0 already holds ${used} tokens)`, { nPast: used });
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
    const params = this.context.generateParams(this.#withDefaults(opts));
    let resolveTurn!: (t: TurnResult) => void, rejectTurn!: (e: unknown) => void;
    const turn = new Promise<TurnResult>((res, rej) => { resolveTurn = res; rejectTurn = rej; });
    turn.catch(() => {});
    // a turn asked before dispose() runs: dispose() frees the sequence once the turns queued before it are done
    const gen = new Generation((onPiece) => this.#turns.run(async () => {
      const { plan, history } = this.#next(question);
      const r = await this.#seq.turn(plan, params, signal, onPiece);
      this.#history = [...history, { role: 'assistant', content: r.generation.text }];
      this.#pending = null;
      return {
        ...r.generation, evaluated: r.prefill.evaluated, nPast: this.#seq.nPast, prefillMs: r.prefill.ms,
        ...(r.prefill.mediaTokens ? { mediaTokens: r.prefill.mediaTokens } : {}),
      };
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
        await this.#seq.copyTo(seq);
      } catch (e) {
        this.#family.close(seq);
        throw e;
      }
      return new Chat(this.#model, this.#family, seq, [...this.#history], this.#pending).setDefaults(this.#defaults);
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
      let seq: Sequence | null = null;
      try {
        if (!this.context.disposed) {
          await this.#seq.truncate(0);
          seq = this.#seq;
        }
      } finally {
        this.#family.close(seq);
      }
    });
  }
}
