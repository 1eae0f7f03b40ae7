/**
 * Context: a KV cache over a model, evaluating sequence plans and generating answers. Calls run
 * one at a time in the order they are made (a context is one llama_context).
 */
import type { SequencePlan } from '../assembly/types.js';
import { VidlmError, abortError, throwIfAborted } from '../errors.js';
import { withAbort, type NativeContext, type NativePlanItem } from '../native.js';
import { invalid, optionalInt, optionalNumber, optionalSignal } from '../options.js';
import type { EncodableFrame } from './encode.js';
import { Generation, type GenerateResult } from './generation.js';

/** A plan item of raw token ids (e.g. the tokens a model puts around an image). */
export interface TokensItem { tokens: Int32Array }
export type ContextPlan = ReadonlyArray<SequencePlan[number] | TokensItem>;

export interface PrefillOptions {
  /** KV sequence to append to (default 0); see `sequences` in createContext. */
  sequence?: number;
  /** Put the model's BOS token first when the model wants one. Default: when the sequence is empty. */
  addBos?: boolean;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  /**
   * Evaluate text tokens as their token-embedding rows, in the same llama_decode batches as the
   * embedding blocks around them (default true). The same computation on architectures whose
   * graph has no token-only step (llama, qwen2, qwen3, mistral3; others always go item by item),
   * and a plan that interleaves text with frames (LITA time tokens) takes a few decodes instead
   * of one or two per item. false: each item is its own decode.
   */
  mergeText?: boolean;
}

export interface PrefillResult {
  evaluated: number;
  nPast: number;
  ms: number;
  /** llama_decode calls made (prefill). */
  decodes?: number;
  /** Embeddings the media became (prefillMedia); with M-RoPE they take fewer positions. */
  mediaTokens?: number;
}

export interface GenerateOptions {
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  repeatLastN?: number;
  seed?: number;
  /** Strings that end the answer (not included in it). */
  stop?: string[];
  /** GBNF grammar the answer must follow. */
  grammar?: string;
  /** JSON schema (object or JSON text) the answer must follow. */
  jsonSchema?: object | string;
  sequence?: number;
  signal?: AbortSignal;
}

export interface ModelFacts { addBos: boolean; bosToken: number; nEmbd: number; nonCausalImageAttention: boolean }

export class Context {
  readonly contextSize: number;
  readonly batchSize: number;
  readonly sequences: number;
  /** CPU threads llama.cpp uses for this context. */
  readonly threads: number;
  #native: NativeContext | null;
  #facts: ModelFacts;
  #queue: Promise<unknown> = Promise.resolve();

  /** @internal use model.createContext() */
  constructor(native: NativeContext, facts: ModelFacts) {
    this.#native = native;
    this.#facts = facts;
    const s = native.size();
    this.contextSize = s.contextSize;
    this.batchSize = s.batchSize;
    this.sequences = s.sequences;
    this.threads = s.threads;
  }

  get #n(): NativeContext {
    if (!this.#native) throw new VidlmError('ERR_DISPOSED', 'the context was disposed');
    return this.#native;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  #seq(v: unknown): number { return optionalInt('sequence', v, 0, this.sequences - 1, 0); }

  tokenize(text: string, opts: { addSpecial?: boolean; parseSpecial?: boolean } = {}): Int32Array {
    if (typeof text !== 'string') throw invalid('text', 'a string', text);
    return this.#n.tokenize(text, opts.addSpecial ?? false, opts.parseSpecial ?? true);
  }

  detokenize(tokens: Int32Array, special = true): string { return this.#n.detokenize(tokens, special); }

  /** The plan as the native side evaluates it: text tokenized, token runs merged, BOS first. */
  toItems(plan: ContextPlan, addBos: boolean): NativePlanItem[] {
    if (!Array.isArray(plan)) throw invalid('plan', 'an array of plan items', plan);
    const items: NativePlanItem[] = [];
    const pushTokens = (t: Int32Array) => {
      if (t.length === 0) return;
      const last = items[items.length - 1];
      if (last && 'tokens' in last) {
        const merged = new Int32Array(last.tokens.length + t.length);
        merged.set(last.tokens);
        merged.set(t, last.tokens.length);
        items[items.length - 1] = { tokens: merged };
      } else items.push({ tokens: t });
    };
    plan.forEach((item, i) => {
      if ('tokens' in item && item.tokens instanceof Int32Array) pushTokens(item.tokens);
      else if ('text' in item && typeof item.text === 'string') pushTokens(this.#n.tokenize(item.text, false, true));
      else if ('embeddings' in item && item.embeddings instanceof Float32Array) {
        if (!Number.isInteger(item.count) || item.count <= 0 || item.embeddings.length !== item.count * this.#facts.nEmbd) {
          throw new VidlmError('ERR_INVALID_ARG', `plan item ${i}: embeddings must hold count × ${this.#facts.nEmbd} floats`);
        }
        items.push({ embeddings: item.embeddings, count: item.count, nonCausal: this.#facts.nonCausalImageAttention });
      } else throw new VidlmError('ERR_INVALID_ARG', `plan item ${i} must be { text }, { tokens } or { embeddings, count }`);
    });
    if (addBos && this.#facts.addBos && this.#facts.bosToken >= 0) {
      const bos = Int32Array.of(this.#facts.bosToken);
      const first = items[0];
      if (first && 'tokens' in first) { const t = new Int32Array(first.tokens.length + 1); t[0] = bos[0]!; t.set(first.tokens, 1); items[0] = { tokens: t }; }
      else items.unshift({ tokens: bos });
    }
    return items;
  }

  /** Token count of a plan, known before any work (text is tokenized, nothing is evaluated). */
  countTokens(plan: ContextPlan, opts: { addBos?: boolean } = {}): number {
    return this.toItems(plan, opts.addBos ?? true).reduce((n, it) => n + ('tokens' in it ? it.tokens.length : it.count), 0);
  }

  /** Evaluates a plan after the sequence's current end. ERR_CONTEXT_FULL before any work if it does not fit. */
  prefill(plan: ContextPlan, opts: PrefillOptions = {}): Promise<PrefillResult> {
    const seq = this.#seq(opts.sequence);
    const signal = optionalSignal('signal', opts.signal);
    return this.#serial(async () => {
      throwIfAborted(signal);
      const items = this.toItems(plan, opts.addBos ?? this.#n.nPast(seq) === 0);
      return withAbort(signal, (token) => this.#n.prefill(items, seq, token, opts.onProgress, opts.mergeText ?? true));
    });
  }

  /**
   * The model's own media path: libmtmd tokenizes `text`, which holds one media marker per frame
   * (model.mediaMarker), encodes the frames and evaluates them with the model's positions
   * (M-RoPE included). `mergeable` lets models that merge frame pairs (Qwen2-VL) do so.
   */
  prefillMedia(text: string, frames: readonly EncodableFrame[], opts: PrefillOptions & { mergeable?: boolean } = {}): Promise<PrefillResult> {
    if (typeof text !== 'string') throw invalid('text', 'a string', text);
    if (!Array.isArray(frames)) throw invalid('frames', 'an array of frames', frames);
    const seq = this.#seq(opts.sequence);
    const signal = optionalSignal('signal', opts.signal);
    return this.#serial(async () => {
      throwIfAborted(signal);
      return withAbort(signal, (token) => this.#n.prefillMedia(text, frames as EncodableFrame[], seq, opts.mergeable ?? false, token, opts.onProgress));
    });
  }

  generate(opts: GenerateOptions = {}): Generation {
    const seq = this.#seq(opts.sequence);
    const signal = optionalSignal('signal', opts.signal);
    const params = {
      maxTokens: optionalInt('maxTokens', opts.maxTokens, 1, 1 << 20, 256),
      temperature: opts.temperature === undefined ? undefined : optionalNumber('temperature', opts.temperature, 0, 100, 0),
      topK: opts.topK === undefined ? undefined : optionalInt('topK', opts.topK, 0, 1 << 20, 0),
      topP: opts.topP === undefined ? undefined : optionalNumber('topP', opts.topP, 0, 1, 1),
      minP: opts.minP === undefined ? undefined : optionalNumber('minP', opts.minP, 0, 1, 0),
      repeatPenalty: opts.repeatPenalty === undefined ? undefined : optionalNumber('repeatPenalty', opts.repeatPenalty, 0, 10, 1),
      repeatLastN: opts.repeatLastN === undefined ? undefined : optionalInt('repeatLastN', opts.repeatLastN, -1, 1 << 20, 64),
      seed: opts.seed === undefined ? undefined : optionalInt('seed', opts.seed, 0, 0xffffffff, 0),
      stop: opts.stop,
      grammar: opts.grammar,
      jsonSchema: opts.jsonSchema === undefined ? undefined : typeof opts.jsonSchema === 'string' ? opts.jsonSchema : JSON.stringify(opts.jsonSchema),
    };
    if (params.stop !== undefined && (!Array.isArray(params.stop) || params.stop.some((s) => typeof s !== 'string'))) throw invalid('stop', 'an array of strings', params.stop);
    return new Generation((onPiece) => this.#serial(async () => {
      throwIfAborted(signal);
      const r = await withAbort(signal, (token) => this.#n.generate(params, seq, onPiece, token));
      if (r.stopReason === 'aborted') {
        const err = abortError(signal);
        Object.assign(err, { details: { text: r.text, generated: r.generated } });
        throw err;
      }
      const result: GenerateResult = {
        text: r.text,
        stopReason: r.stopReason,
        tokens: { generated: r.generated },
        timings: { firstTokenMs: r.firstTokenMs, generateMs: r.generateMs, tokensPerSecond: r.generated > 0 ? (r.generated * 1000) / r.generateMs : 0 },
      };
      return result;
    }));
  }

  nPast(sequence = 0): number { return this.#n.nPast(this.#seq(sequence)); }

  /** Makes `to` a copy of `from`'s cache: a fork shares the evaluated prefix without recomputing it. */
  copySequence(from: number, to: number): Promise<void> {
    return this.#serial(async () => this.#n.kvCopy(this.#seq(from), this.#seq(to)));
  }

  /** Forgets everything of a sequence from position `pos` on. */
  truncate(sequence: number, pos: number): Promise<void> {
    return this.#serial(async () => this.#n.kvTruncate(this.#seq(sequence), pos));
  }

  dispose(): void {
    this.#native?.dispose();
    this.#native = null;
  }

  [Symbol.dispose](): void { this.dispose(); }
}
