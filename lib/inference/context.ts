/**
 * Context: a KV cache over a model, evaluating sequence plans and generating answers. Calls run one
 * at a time in call order (one llama_context); a chat turn's prefill and generation are one unit
 * (turn()). Sequence (below): one of its KV sequences as a value, each operation one call into it.
 */
import { withMropePositions } from '../assembly/mrope.js';
import type { SequencePlan } from '../assembly/types.js';
import { CallbackGuard } from '../callbacks.js';
import { VidlmError, abortError, throwIfAborted } from '../errors.js';
import { withAbort, type MediaChunkReport, type NativeContext, type NativeGenerateParams, type NativeModel, type NativeModelInfo, type NativePlanItem } from '../native.js';
import { invalid, optionalBool, optionalFunction, optionalInt, optionalSignal } from '../options.js';
import { SerialQueue } from '../serial.js';
import { withThreads, type ComputeConfig } from '../threads/index.js';
import { isAudioItem, prefillWithAudio, type AudioItem, type ClipReport } from './audio-prefill.js';
import type { MediaInput } from './encode.js';
import { generateParams, resolveGrammar, type GenerateOptions } from './generate-options.js';
import { Generation, type GenerateResult } from './generation.js';

export type { GenerateOptions } from './generate-options.js';
export type { AudioItem } from './audio-prefill.js';

/** A plan item of raw token ids (e.g. the tokens a model puts around an image). */
export interface TokensItem { tokens: Int32Array }
export type ContextPlan = ReadonlyArray<SequencePlan[number] | TokensItem | AudioItem>;
/** What the start stage evaluates (RenderedPrompt.prefix): a context plan, or text with one media marker per picture or clip for libmtmd. */
export type PromptPrefix = { kind: 'plan'; plan: ContextPlan } | { kind: 'native'; text: string; frames: readonly MediaInput[] };

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
  /** What prefillMedia evaluated, chunk by chunk, in order. */
  chunks?: MediaChunkReport[];
  /** @internal A plan's audio clips in order (prefill): the positions each took, its KV cells, the embeddings libmtmd made of it. */
  clips?: ClipReport[];
}

/** What a context needs of its model: the native side's facts (one shape, NativeModelInfo) and its handles. */
export interface ModelFacts {
  info: NativeModelInfo;
  /** The model's native handle (grammar checks). */
  model: NativeModel;
  /** The model's encoder queue: libmtmd encodes one call at a time (prefillMedia uses it). */
  encoder: SerialQueue;
  /** This context's thread settings (the model's, or its own `threads`). */
  compute: ComputeConfig;
}

/** What one chat turn gives back: its prefill and its generation. */
export interface TurnOutcome { prefill: PrefillResult; generation: GenerateResult }

export class Context {
  readonly contextSize: number;
  readonly batchSize: number;
  readonly sequences: number;
  /** CPU threads this context was created with; under the policy ('auto') each call sets its own. */
  readonly threads: number;
  #native: NativeContext | null;
  #facts: ModelFacts;
  #queue = new SerialQueue();

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

  get disposed(): boolean { return this.#native === null; }

  get #n(): NativeContext {
    if (!this.#native) throw new VidlmError('ERR_DISPOSED', 'the context was disposed');
    return this.#native;
  }

  #seq(v: unknown): number { return optionalInt('sequence', v, 0, this.sequences - 1, 0); }

  tokenize(text: string, opts: { addSpecial?: boolean; parseSpecial?: boolean } = {}): Int32Array {
    if (typeof text !== 'string') throw invalid('text', 'a string', text);
    return this.#n.tokenize(text, optionalBool('addSpecial', opts.addSpecial, false), optionalBool('parseSpecial', opts.parseSpecial, true));
  }

  /** Text of token ids; each must be in the vocabulary, 0 to nVocab - 1 (checked by the addon). */
  detokenize(tokens: Int32Array, special = true): string {
    if (!(tokens instanceof Int32Array)) throw invalid('tokens', 'an Int32Array', tokens);
    return this.#n.detokenize(tokens, optionalBool('special', special, true));
  }

  /** The plan as the native side takes it: text tokenized, token runs merged (the native side adds BOS and picks the attention). */
  #toItems(plan: ContextPlan): NativePlanItem[] {
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
      if (item === null || typeof item !== 'object') throw new VidlmError('ERR_INVALID_ARG', `plan item ${i} must be { text }, { tokens } or { embeddings, count }`);
      if (isAudioItem(item)) throw new VidlmError('ERR_INVALID_ARG', `plan item ${i}: an audio clip has no token count before libmtmd encodes it; only prefill() takes one`);
      if ('tokens' in item && item.tokens instanceof Int32Array) pushTokens(item.tokens);
      else if ('text' in item && typeof item.text === 'string') pushTokens(this.#n.tokenize(item.text, false, true));
      else if ('embeddings' in item && item.embeddings instanceof Float32Array) {
        const dim = this.#facts.info.nEmbdInp;
        if (!Number.isInteger(item.count) || item.count <= 0 || item.embeddings.length !== item.count * dim) {
          throw new VidlmError('ERR_INVALID_ARG', `plan item ${i}: embeddings must hold count × ${dim} floats`);
        }
        // an M-RoPE model: every block gets (t, h, w) positions from its grids (lib/assembly/mrope.ts)
        if (!this.#facts.info.mrope) items.push({ embeddings: item.embeddings, count: item.count });
        else {
          const { positions, span } = withMropePositions(item);
          items.push({ embeddings: item.embeddings, count: item.count, positions, span });
        }
      } else throw new VidlmError('ERR_INVALID_ARG', `plan item ${i} must be { text }, { tokens } or { embeddings, count }`);
    });
    return items;
  }

  /**
   * @internal The plan as the native side takes it, with BOS first when `addBos` and the model has
   * one: what a prefill at position 0 evaluates. The server matches KV prefixes on it, then
   * prefills the rest with `addBos: false`.
   */
  toItems(plan: ContextPlan, addBos: boolean): NativePlanItem[] {
    const items = this.#toItems(plan);
    const { addBos: modelBos, bosToken } = this.#facts.info;
    if (!addBos || !modelBos || bosToken < 0) return items;
    const first = items[0];
    if (first && 'tokens' in first) {
      const t = new Int32Array(first.tokens.length + 1);
      t[0] = bosToken;
      t.set(first.tokens, 1);
      items[0] = { tokens: t };
    } else items.unshift({ tokens: Int32Array.of(bosToken) });
    return items;
  }

  /** Token count of a plan, known before any work (text is tokenized, nothing is evaluated). */
  countTokens(plan: ContextPlan, opts: { addBos?: boolean } = {}): number {
    const { addBos, bosToken } = this.#facts.info; // the native side puts BOS first when the model has one
    const bos = (opts.addBos ?? true) && addBos && bosToken >= 0 ? 1 : 0;
    return this.#toItems(plan).reduce((n, it) => n + ('tokens' in it ? it.tokens.length : it.count), bos);
  }

  /** Evaluates a plan after the sequence's current end. ERR_CONTEXT_FULL before any work if it does not fit. */
  prefill(plan: ContextPlan, opts: PrefillOptions = {}): Promise<PrefillResult> {
    const seq = this.#seq(opts.sequence);
    const signal = optionalSignal('signal', opts.signal);
    const guard = new CallbackGuard(signal);
    const onProgress = guard.wrap('onProgress', optionalFunction<(f: number) => void>('onProgress', opts.onProgress));
    const addBos = opts.addBos === undefined ? undefined : optionalBool('addBos', opts.addBos, true);
    const mergeText = optionalBool('mergeText', opts.mergeText, true);
    return this.#queue.run(() => guard.run(async () => {
      const r = await this.#prefillNow(plan, seq, guard.signal, onProgress, addBos, mergeText);
      onProgress?.(1); // the native side's last report may come after its promise: this one does not
      return r;
    }));
  }

  async #prefillNow(plan: ContextPlan, seq: number, signal: AbortSignal | undefined, onProgress: ((f: number) => void) | undefined,
    addBos: boolean | undefined, mergeText: boolean): Promise<PrefillResult> {
    throwIfAborted(signal);
    if (Array.isArray(plan) && plan.some(isAudioItem)) return this.#prefillWithAudio(plan, seq, signal, onProgress, addBos, mergeText);
    const items = this.#toItems(plan);
    // the native side checks the fit (ERR_CONTEXT_FULL with the numbers) before any work
    const n = this.#n;
    return withThreads(this.#facts.compute, [n], () => withAbort(signal, (token) => n.prefill(items, seq, token, onProgress, mergeText, addBos ?? n.nPast(seq) === 0)), signal);
  }

  /** A plan with audio clips (audio-prefill.ts): the runs between clips through the native prefill, each clip through libmtmd's audio path. */
  #prefillWithAudio(plan: ContextPlan, seq: number, signal: AbortSignal | undefined, onProgress: ((f: number) => void) | undefined,
    addBos: boolean | undefined, mergeText: boolean): Promise<PrefillResult> {
    if (!this.#facts.info.audio) throw new VidlmError('ERR_UNSUPPORTED', "the plan holds audio but the model's mmproj has no audio encoder", { option: 'audio' });
    const n = this.#n;
    const { compute, model, encoder, info } = this.#facts;
    const bos = addBos ?? n.nPast(seq) === 0;
    return prefillWithAudio(plan, {
      nPast: () => n.nPast(seq),
      run: (items, first, report) => withThreads(compute, [n], () => withAbort(signal, (token) => n.prefill(this.#toItems(items), seq, token, report, mergeText, first && bos)), signal),
      // one marker: libmtmd adds the family's audio markers around the clip
      clip: (c, report) => encoder.run(() => withThreads(compute, [n, model], () => withAbort(signal, (token) => n.prefillMedia(info.mediaMarker, [c.tokens === undefined ? { audio: c.audio } : { audio: c.audio, tokens: c.tokens }], seq, false, token, report)), signal)),
      truncate: (pos) => { if (this.#native && this.#native.nPast(seq) > pos) this.#native.kvTruncate(seq, pos); },
    }, signal, onProgress);
  }

  /**
   * The native path (libmtmd's own media handling): libmtmd tokenizes `text`, which holds one media marker per frame
   * (model.mediaMarker), encodes the frames and evaluates them with the model's positions
   * (M-RoPE included). `mergeable` lets models that merge frame pairs (Qwen2-VL) do so.
   */
  prefillMedia(text: string, frames: readonly MediaInput[], opts: PrefillOptions & { mergeable?: boolean } = {}): Promise<PrefillResult> {
    if (typeof text !== 'string') throw invalid('text', 'a string', text);
    if (!Array.isArray(frames)) throw invalid('frames', 'an array of frames', frames);
    const seq = this.#seq(opts.sequence);
    const signal = optionalSignal('signal', opts.signal);
    const guard = new CallbackGuard(signal);
    const onProgress = guard.wrap('onProgress', optionalFunction<(f: number) => void>('onProgress', opts.onProgress));
    const mergeable = optionalBool('mergeable', opts.mergeable, false);
    return this.#queue.run(() => this.#facts.encoder.run(() => guard.run(async () => {
      throwIfAborted(guard.signal);
      const n = this.#n;
      const r = await withThreads(this.#facts.compute, [n, this.#facts.model], () => withAbort(guard.signal, (token) => n.prefillMedia(text, frames as MediaInput[], seq, mergeable, token, onProgress)), guard.signal);
      onProgress?.(1);
      return r;
    })));
  }

  /** @internal Checked native parameters of generation options, grammar parsed: ERR_INVALID_ARG / ERR_GRAMMAR now, not later. */
  generateParams(opts: GenerateOptions): NativeGenerateParams {
    return resolveGrammar(this.#facts.model, generateParams(opts));
  }

  generate(opts: GenerateOptions = {}): Generation {
    const seq = this.#seq(opts?.sequence);
    const signal = optionalSignal('signal', opts?.signal);
    const params = this.generateParams(opts);
    return new Generation((onPiece) => this.#queue.run(() => this.#generateNow(params, seq, signal, onPiece)));
  }

  async #generateNow(params: NativeGenerateParams, seq: number, signal: AbortSignal | undefined, onPiece: (piece: string) => void): Promise<GenerateResult> {
    throwIfAborted(signal);
    const n = this.#n;
    const r = await withThreads(this.#facts.compute, [n], () => withAbort(signal, (token) => n.generate(params, seq, onPiece, token)), signal);
    if (r.stopReason === 'aborted') {
      const err = abortError(signal);
      Object.assign(err, { details: { text: r.text, generated: r.generated } });
      throw err;
    }
    return {
      text: r.text,
      stopReason: r.stopReason,
      tokens: { generated: r.generated },
      timings: { firstTokenMs: r.firstTokenMs, generateMs: r.generateMs, tokensPerSecond: r.generated > 0 ? (r.generated * 1000) / r.generateMs : 0 },
    };
  }

  /**
   * @internal A chat turn: prefill `plan`, then generate with `params` (from generateParams), as one
   * unit of this context's queue. A turn that fails leaves its sequence as it was before.
   */
  turn(plan: ContextPlan, sequence: number, params: NativeGenerateParams, signal: AbortSignal | undefined, onPiece: (piece: string) => void): Promise<TurnOutcome> {
    const seq = this.#seq(sequence);
    return this.#queue.run(async () => {
      const before = this.#n.nPast(seq);
      try {
        const prefill = await this.#prefillNow(plan, seq, signal, undefined, before === 0, true);
        const generation = await this.#generateNow(params, seq, signal, onPiece);
        return { prefill, generation };
      } catch (e) {
        if (this.#native && this.#native.nPast(seq) > before) this.#native.kvTruncate(seq, before);
        throw e;
      }
    });
  }

  nPast(sequence = 0): number { return this.#n.nPast(this.#seq(sequence)); }

  /** Makes `to` a copy of `from`'s cache: a fork shares the evaluated prefix without recomputing it. */
  copySequence(from: number, to: number): Promise<void> {
    const src = this.#seq(from), dst = this.#seq(to);
    return this.#queue.run(async () => this.#n.kvCopy(src, dst));
  }

  /** Forgets everything of a sequence from position `pos` on. */
  truncate(sequence: number, pos: number): Promise<void> {
    const seq = this.#seq(sequence);
    if (typeof pos !== 'number' || !Number.isInteger(pos) || pos < 0) throw invalid('pos', 'a non-negative integer', pos);
    return this.#queue.run(async () => this.#n.kvTruncate(seq, pos));
  }

  dispose(): void {
    this.#native?.dispose();
    this.#native = null;
  }

  [Symbol.dispose](): void { this.dispose(); }
}

/**
 * One KV sequence of a context, as a value: its id and its context together, with the
 * operations that take a sequence (evaluate after its end, generate from it, its position,
 * forget a range, copy it to another). Chats, their forks and the server's slots hold one of
 * these instead of passing a bare sequence number next to a context.
 */
export class Sequence {
  readonly context: Context;
  readonly id: number;

  constructor(context: Context, id: number) {
    if (!Number.isInteger(id) || id < 0 || id >= context.sequences) {
      throw new VidlmError('ERR_INVALID_ARG', `sequence must be an integer from 0 to ${context.sequences - 1}`, { option: 'sequence' });
    }
    this.context = context;
    this.id = id;
  }

  /** Positions evaluated so far (the next one's index). */
  get nPast(): number { return this.context.nPast(this.id); }

  /** Evaluates a plan after the sequence's end (Context.prefill). */
  prefill(plan: ContextPlan, opts: Omit<PrefillOptions, 'sequence'> = {}): Promise<PrefillResult> {
    return this.context.prefill(plan, { ...opts, sequence: this.id });
  }

  /**
   * The start stage: a rendered prompt's prefix evaluated after the sequence's end, libmtmd's text
   * and media (prefillMedia) or the pooled plan (nothing when it is empty: the question comes first).
   */
  start(prefix: PromptPrefix, opts: Omit<PrefillOptions, 'sequence'> & { mergeable?: boolean } = {}): Promise<PrefillResult> {
    if (prefix.kind === 'native') return this.context.prefillMedia(prefix.text, prefix.frames, { ...opts, sequence: this.id });
    return prefix.plan.length > 0 ? this.context.prefill(prefix.plan, { ...opts, sequence: this.id }) : Promise.resolve({ evaluated: 0, nPast: this.nPast, ms: 0 });
  }

  /** Evaluates text with media markers and their frames through libmtmd (Context.prefillMedia). */
  prefillMedia(text: string, frames: readonly MediaInput[], opts: Omit<PrefillOptions, 'sequence'> & { mergeable?: boolean } = {}): Promise<PrefillResult> {
    return this.context.prefillMedia(text, frames, { ...opts, sequence: this.id });
  }

  generate(opts: Omit<GenerateOptions, 'sequence'> = {}): Generation {
    return this.context.generate({ ...opts, sequence: this.id });
  }

  /** A chat turn: prefill then generate as one unit; a failed turn leaves the sequence as it was (Context.turn). */
  turn(plan: ContextPlan, params: NativeGenerateParams, signal: AbortSignal | undefined, onPiece: (piece: string) => void): Promise<TurnOutcome> {
    return this.context.turn(plan, this.id, params, signal, onPiece);
  }

  /** Forgets everything from position `pos` on (0: the sequence is empty again). */
  truncate(pos: number): Promise<void> { return this.context.truncate(this.id, pos); }

  /** Makes `to` (a sequence of the same context) a copy of this one: a fork shares the prefix without evaluating it again. */
  copyTo(to: Sequence): Promise<void> {
    if (to.context !== this.context) throw new VidlmError('ERR_INVALID_ARG', 'a sequence copies only to a sequence of its own context', { option: 'sequence' });
    return this.context.copySequence(this.id, to.id);
  }
}
