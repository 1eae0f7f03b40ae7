/**
 * loadModel(): the public entry to a GGUF LLM and its mmproj. Both files are checked by the
 * GGUF validator before llama.cpp opens them, since llama.cpp's asserts would end the process.
 */
import { stat } from 'node:fs/promises';
import type { FrameGrid } from './assembly/types.js';
import type { ChatMessage } from './inference/prompt.js';
import { temporalMerge, type ModelInfo } from './model-info.js';
import { EmbeddingCache, type EmbeddingCacheOptions } from './inference/cache.js';
import { Context } from './inference/context.js';
import { encodeFrames, type EncodableFrame, type EncodeOptions, type EncodeStats } from './inference/encode.js';
import { VidlmError, throwIfAborted } from './errors.js';
import { validateGguf, type GgufSummary } from './gguf/index.js';
import { native, withAbort, type NativeDevice, type NativeModel, type NativeModelInfo } from './native.js';
import { invalid, optionalBool, optionalFunction, optionalInt, optionalSignal, requireString } from './options.js';
import { CallbackGuard } from './callbacks.js';
import { ensureDir } from './inference/cache-dir.js';
import { SerialQueue } from './serial.js';
import { resolveLimits, type JobLimits, type ResolvedLimits } from './limits.js';
import { checkPoll, checkThreads, computeBudget, threadBudget, withThreads, type ComputeConfig } from './threads/index.js';
import { probeSystem } from './threads/probe.js';

export type { ChatMessage } from './inference/prompt.js';
export type { ModelInfo } from './model-info.js';

export interface LoadModelOptions {
  /** Path of the LLM GGUF file. */
  model: string;
  /** Path of the mmproj GGUF file (vision/audio encoder and projector). Optional for text-only use. */
  mmproj?: string;
  /**
   * CPU threads for the encoder and the LLM. Default 'auto': each compute call gets the free
   * cores (CPUs, cgroup quota and other load counted), shared with the process's other calls
   * (docs/deploy.md). A number fixes it.
   */
  threads?: number | 'auto';
  /**
   * ggml's polling level, 0 to 100: the LLM's graphs run on a persistent thread pool whose idle
   * workers poll that long for the next graph before sleeping. Default 'auto': under the policy
   * (threads 'auto') a persistent pool at level 0 (workers sleep between graphs); with a fixed
   * `threads`, ggml's own pool per graph.
   */
  poll?: number | 'auto';
  /** LLM layers to offload to the GPU: a count, or 'auto' (all when a GPU is present). Default 'auto'. */
  gpuLayers?: number | 'auto';
  /** Run the mmproj encoder on the GPU when there is one. Default true. */
  mmprojGpu?: boolean;
  /** Called with the loaded fraction, 0 to 1. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** Cache of encoded frames: memory budget and optional folder. Default 256 MiB in memory. */
  cache?: EmbeddingCacheOptions | false;
  /** What one call (ask, describe, localize, chat, countMediaTokens, watch) on this model may ask for; over one is ERR_INVALID_ARG before any work. */
  limits?: JobLimits;
}

export interface CreateContextOptions {
  /** Tokens the KV cache holds. Default: 4096, or the model's trained length if smaller. */
  contextSize?: number;
  /** Tokens per llama_decode call (prompt processing). Default 2048. */
  batchSize?: number;
  /** CPU threads for the LLM. Default: the model's `threads` (loadModel), which defaults to 'auto' (the policy). */
  threads?: number | 'auto';
  /** 'auto' (default), true or false. */
  flashAttention?: boolean | 'auto';
  /** KV cache element type. Default 'f16'. */
  kvType?: 'f16' | 'q8_0' | 'f32';
  /** Independent KV sequences (for chat forks). Default 1. */
  sequences?: number;
}

export class Model {
  readonly info: ModelInfo;
  readonly chatTemplate: string | null;
  readonly paths: { model: string; mmproj?: string };
  /** Where each part runs: the LLM's layers and the mmproj's encoder ('CPU' or a GPU's name). */
  readonly devices: { llm: string; mmproj: string | null };
  /** Encoded frames of this model's mmproj; null when caching is off. */
  readonly cache: EmbeddingCache | null;
  /** What one call on this model may ask for (loadModel's `limits`, defaults filled in). */
  readonly limits: ResolvedLimits;
  /** @internal */
  readonly handle: NativeModel;
  /** @internal */
  readonly native: NativeModelInfo;
  #mmprojId: string;
  /** libmtmd's encoder (mtmd_context) runs one call at a time: encode() and prefillMedia() queue here. */
  #encoder = new SerialQueue();
  #compute: ComputeConfig;
  #disposed = false;

  /** @internal use loadModel() */
  constructor(handle: NativeModel, info: ModelInfo, paths: { model: string; mmproj?: string }, cache: EmbeddingCache | null, mmprojId: string,
    devices: { llm: string; mmproj: string | null }, compute: ComputeConfig = { threads: null, poll: -1 }) {
    this.handle = handle;
    this.#compute = compute;
    this.devices = devices;
    this.native = handle.info();
    this.info = info;
    this.chatTemplate = this.native.chatTemplate;
    this.paths = paths;
    this.cache = cache;
    this.#mmprojId = mmprojId;
    this.limits = resolveLimits(undefined, info);
  }

  /** The media marker of the model's prompts: where a chat message's images go. */
  get mediaMarker(): string { return this.native.mediaMarker; }

  /** @internal The model's thread settings (`threads` null: the policy's shared budget). */
  get compute(): ComputeConfig { return this.#compute; }

  /**
   * Runs the vision encoder and projector on frames and returns each frame's projected tokens,
   * `{ t, nx, ny, dim, data }` with the grid row-major. Frames in the cache are not encoded again.
   */
  async encode(frames: readonly EncodableFrame[], opts: EncodeOptions = {}): Promise<FrameGrid[]> {
    return (await this.encodeWithStats(frames, opts)).grids;
  }

  /** encode() plus how many frames were encoded, taken from the cache, in how many batches, and the time. */
  encodeWithStats(frames: readonly EncodableFrame[], opts: EncodeOptions = {}): Promise<{ grids: FrameGrid[]; stats: EncodeStats }> {
    this.#live();
    if (!Array.isArray(frames)) throw invalid('frames', 'an array of frames', frames);
    if (opts === null || typeof opts !== 'object') throw invalid('options', 'an object', opts);
    const checked: EncodeOptions = {
      batchSize: optionalInt('batchSize', opts.batchSize, 1, 4096, 16),
      signal: optionalSignal('signal', opts.signal),
      onProgress: optionalFunction<(f: number) => void>('onProgress', opts.onProgress),
      source: opts.source === undefined ? undefined : requireString('source', opts.source),
      variant: opts.variant === undefined ? undefined : requireString('variant', opts.variant),
      missing: optionalFunction<NonNullable<EncodeOptions['missing']>>('missing', opts.missing),
      pairs: optionalBool('pairs', opts.pairs, false),
    };
    const cache = optionalBool('cache', opts.cache, true) ? this.cache : null;
    if (!this.info.vision) throw new VidlmError('ERR_UNSUPPORTED', 'this model has no vision encoder: load it with an mmproj');
    if (checked.pairs && temporalMerge(this.info.projectorType) !== 2) {
      throw new VidlmError('ERR_UNSUPPORTED', `encode option pairs needs a model that merges two frames into one temporal step (the Qwen-VL family); this mmproj's projector is ${this.info.projectorType ?? 'unknown'}`, { option: 'pairs' });
    }
    return encodeFrames({ handle: this.handle, queue: this.#encoder, id: this.#mmprojId, compute: this.#compute }, frames, cache, checked);
  }

  /**
   * @internal An audio clip's embeddings as libmtmd makes them (mono PCM at info.audioSampleRate),
   * read out rather than evaluated: every 30-s chunk's, libmtmd's padding included
   * (`tokens` × `dim` floats). For measuring real-length audio against a longer clip's
   * embeddings (bench/audio-cosine.ts); prompts never need it.
   */
  encodeAudio(samples: Float32Array, opts: { signal?: AbortSignal } = {}): Promise<{ data: Float32Array; tokens: number; dim: number; chunks: number }> {
    this.#live();
    if (!(samples instanceof Float32Array) || samples.length === 0) throw invalid('samples', 'a non-empty Float32Array of mono PCM', samples);
    if (!this.info.audio) throw new VidlmError('ERR_UNSUPPORTED', "the model's mmproj has no audio encoder", { option: 'audio' });
    const signal = optionalSignal('signal', opts.signal);
    const handle = this.handle;
    return this.#encoder.run(() => withThreads(this.#compute, [handle], () => withAbort(signal, (token) => handle.encodeAudio(samples, token)), signal));
  }

  /** Formats chat messages with the model's own template (llama.cpp's jinja engine). */
  applyTemplate(messages: ChatMessage[], opts: { addAssistant?: boolean; template?: string } = {}): string {
    this.#live();
    if (!Array.isArray(messages)) throw invalid('messages', 'an array of { role, content }', messages);
    return this.handle.applyTemplate(messages, { addAssistant: opts.addAssistant ?? true, template: opts.template });
  }

  /**
   * applyTemplate off the JavaScript thread (llama.cpp analyses the template on every call, about
   * 2 ms): what a server renders per request.
   * @internal
   */
  applyTemplateAsync(messages: ChatMessage[], opts: { addAssistant?: boolean; template?: string } = {}): Promise<string> {
    this.#live();
    if (!Array.isArray(messages)) throw invalid('messages', 'an array of { role, content }', messages);
    return this.handle.applyTemplateAsync(messages, { addAssistant: opts.addAssistant ?? true, template: opts.template });
  }

  /** The text one more message adds after `history`, as a follow-up turn evaluates it. */
  formatTurn(history: ChatMessage[], message: ChatMessage): string {
    this.#live();
    return this.handle.formatTurn(history, [message], { addAssistant: true });
  }

  /** Tokens the model puts before and after each image (e.g. <start_of_image>); empty for LLaVA. */
  get imageWrap(): { before: Int32Array; after: Int32Array } {
    return { before: this.native.imageBefore, after: this.native.imageAfter };
  }

  async createContext(opts: CreateContextOptions = {}): Promise<Context> {
    this.#live();
    const contextSize = optionalInt('contextSize', opts.contextSize, 16, 1 << 24, Math.min(4096, this.info.nCtxTrain || 4096));
    const batchSize = optionalInt('batchSize', opts.batchSize, 1, 1 << 20, 2048);
    const sequences = optionalInt('sequences', opts.sequences, 1, 256, 1);
    // a number fixes this context's threads; otherwise the model's setting (fixed or the policy)
    const threads = checkThreads(opts.threads, this.#compute.threads);
    const fa = opts.flashAttention ?? 'auto';
    if (fa !== 'auto' && typeof fa !== 'boolean') throw invalid('flashAttention', "true, false or 'auto'", fa);
    const kvType = opts.kvType ?? 'f16';
    if (!['f16', 'q8_0', 'f32'].includes(kvType)) throw invalid('kvType', "'f16', 'q8_0' or 'f32'", kvType);
    const native = await this.handle.createContext({ contextSize, batchSize, sequences, ...(threads === null ? {} : { threads }), kvType, flashAttention: fa === 'auto' ? -1 : fa ? 1 : 0 })
      .catch((e: unknown) => {
        // the native message says what llama.cpp refused; the numbers go in details for programs
        if (e instanceof VidlmError && e.code === 'ERR_CONTEXT_CREATE') Object.assign(e, { details: { ...e.details, contextSize, batchSize, sequences, kvType } });
        throw e;
      });
    return new Context(native, { info: this.native, model: this.handle, encoder: this.#encoder, compute: { threads, poll: this.#compute.poll } });
  }

  get disposed(): boolean { return this.#disposed; }

  #live(): void {
    if (this.#disposed) throw new VidlmError('ERR_DISPOSED', 'the model was disposed');
  }

  /** Frees the model: calls made before keep their own reference and finish first; later calls get ERR_DISPOSED. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    // encodes already queued were asked for before dispose(): the native model goes after them
    void this.#encoder.run(async () => this.handle.dispose());
  }

  [Symbol.dispose](): void { this.dispose(); }
}

function kvNumber(s: GgufSummary, key: string): number | null {
  const v = s.kv.get(key);
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null;
}

function kvString(s: GgufSummary, key: string): string | null {
  const v = s.kv.get(key);
  return typeof v === 'string' ? v : null;
}

/**
 * Output width of the mmproj's projector, read from its last projection tensor where the layout
 * is known. The `projection_dim` key is not used: in LLaVA files it is CLIP's own width.
 */
function projectorOutputDim(s: GgufSummary): number | null {
  for (const name of ['mm.2.weight', 'mm.model.fc.weight', 'mm.model.mlp.3.weight', 'mm.1.weight']) {
    const t = s.tensors.find((x) => x.name === name);
    if (t && t.dims.length >= 2) return Number(t.dims[1]);
  }
  return null;
}

/** The first GPU ggml sees, if any. */
function firstGpu(): NativeDevice | undefined {
  return native().versions().backends.flatMap((b) => b.devices).find((d) => d.type === 'gpu' || d.type === 'igpu');
}

function resolveGpuLayers(v: LoadModelOptions['gpuLayers'], gpu: NativeDevice | undefined): number {
  if (v === undefined || v === 'auto') return gpu ? 999 : 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalid('gpuLayers', "a non-negative integer or 'auto'", v);
  return v;
}

export async function loadModel(options: LoadModelOptions): Promise<Model> {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'an object', options);
  const modelPath = requireString('model', options.model);
  const mmprojPath = options.mmproj === undefined ? undefined : requireString('mmproj', options.mmproj);
  const threads = checkThreads(options.threads, null);
  const poll = checkPoll(options.poll);
  const mmprojGpu = optionalBool('mmprojGpu', options.mmprojGpu, true);
  const onProgress = optionalFunction<(f: number) => void>('onProgress', options.onProgress);
  const signal = optionalSignal('signal', options.signal);
  const cacheOptions = checkCacheOptions(options.cache);
  resolveLimits(options.limits, { nCtxTrain: 0 }); // bad limits fail before the load
  const gpu = firstGpu();
  const gpuLayers = resolveGpuLayers(options.gpuLayers, gpu);
  throwIfAborted(signal);
  if (cacheOptions?.dir !== undefined) {
    await ensureDir(cacheOptions.dir).catch((e: Error) => {
      throw new VidlmError('ERR_INVALID_ARG', `cache.dir ${cacheOptions.dir} cannot be used: ${e.message}`, { option: 'cache.dir' }, { cause: e });
    });
  }
  const guard = new CallbackGuard(signal);
  const progress = guard.wrap('onProgress', onProgress);
  return guard.run(async () => {
    const model = await load(modelPath, mmprojPath, { threads, poll }, mmprojGpu, gpu, gpuLayers, cacheOptions, guard.signal, progress);
    (model as { limits: ResolvedLimits }).limits = resolveLimits(options.limits, model.info);
    progress?.(1); // the native side's last report may come after its promise: this one does not
    return model;
  });
}

/** `cache` of loadModel: false, or { maxBytes?, dir? }. */
function checkCacheOptions(v: unknown): EmbeddingCacheOptions | null {
  if (v === false) return null;
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object') throw invalid('cache', 'false or { maxBytes?, dir? }', v);
  const o = v as EmbeddingCacheOptions;
  return {
    maxBytes: o.maxBytes === undefined ? undefined : optionalInt('cache.maxBytes', o.maxBytes, 0, Number.MAX_SAFE_INTEGER, 0),
    dir: o.dir === undefined ? undefined : requireString('cache.dir', o.dir),
  };
}

async function load(modelPath: string, mmprojPath: string | undefined, compute: ComputeConfig, mmprojGpu: boolean, gpu: NativeDevice | undefined,
  gpuLayers: number, cacheOptions: EmbeddingCacheOptions | null, signal: AbortSignal, onProgress: ((f: number) => void) | undefined): Promise<Model> {

  const llm = await validateGguf(modelPath);
  const arch = kvString(llm, 'general.architecture');
  if (!arch || kvNumber(llm, `${arch}.embedding_length`) === null) {
    throw new VidlmError('ERR_MODEL_LOAD', `${modelPath} is a GGUF file but not a language model (no general.architecture / embedding_length)`, { path: modelPath });
  }
  let proj: GgufSummary | undefined;
  if (mmprojPath) {
    proj = await validateGguf(mmprojPath);
    if (kvString(proj, 'clip.projector_type') === null && kvString(proj, 'clip.vision.projector_type') === null && kvString(proj, 'clip.audio.projector_type') === null) {
      throw new VidlmError('ERR_MMPROJ_LOAD', `${mmprojPath} is a GGUF file but not an mmproj (no clip.projector_type)`, { path: mmprojPath });
    }
    const nEmbd = kvNumber(llm, `${arch}.embedding_length`);
    const dim = projectorOutputDim(proj);
    if (dim !== null && nEmbd !== null && dim !== nEmbd) {
      throw new VidlmError('ERR_MMPROJ_MISMATCH',
        `the mmproj projects to ${dim} dimensions but the model's n_embd is ${nEmbd}: they are not a pair`,
        { model: modelPath, mmproj: mmprojPath, projectionDim: dim, nEmbd });
    }
  }
  throwIfAborted(signal);

  // under the policy each call sets its own threads; the count at load is what an encoder keeps
  // where libmtmd's cannot be changed per call (info().encoderThreadsPerCall false)
  const inUse = computeBudget.stats().inUse;
  const threads = compute.threads ?? threadBudget({ ...(await probeSystem(inUse)), ownThreads: inUse });
  const probeSize = proj ? kvNumber(proj, 'clip.vision.image_size') ?? undefined : undefined;
  const handle = await withAbort(signal, (token) =>
    native().loadModel({ model: modelPath, mmproj: mmprojPath, threads, gpuLayers, mmprojGpu, ...(probeSize ? { probeSize } : {}) }, token, onProgress));
  const n = handle.info();
  const vision = n.vision;
  const imageSize = vision && proj ? kvNumber(proj, 'clip.vision.image_size') : null;
  const patchSize = vision && proj ? kvNumber(proj, 'clip.vision.patch_size') : null;
  const info: ModelInfo = {
    architecture: n.architecture,
    description: n.description,
    nEmbd: n.nEmbd,
    nLayer: n.nLayer,
    nHead: n.nHead,
    nCtxTrain: n.nCtxTrain,
    nVocab: n.nVocab,
    nParams: n.nParams,
    hasChatTemplate: n.hasChatTemplate,
    vision,
    audio: n.audio,
    projectorType: proj ? kvString(proj, 'clip.projector_type') ?? kvString(proj, 'clip.vision.projector_type') ?? kvString(proj, 'clip.audio.projector_type') : null,
    imageSize,
    patchSize,
    imageGrid: vision ? { nx: n.imageNx, ny: n.imageNy } : null,
    tokensPerImage: vision ? n.imageTokens : null,
    projectionDim: proj ? projectorOutputDim(proj) ?? n.nEmbdInp : null,
    mrope: n.mrope,
    nonCausalImageAttention: n.nonCausalImageAttention,
    audioSampleRate: n.audio ? n.audioSampleRate : null,
    audioProjectorType: n.audio && proj ? kvString(proj, 'clip.audio.projector_type') ?? kvString(proj, 'clip.projector_type') : null,
  };
  const cache = cacheOptions ? new EmbeddingCache(cacheOptions) : null;
  let mmprojId = '';
  if (mmprojPath) {
    const st = await stat(mmprojPath);
    mmprojId = `${mmprojPath}:${st.size}:${st.mtimeMs}`;
  }
  const devices = {
    llm: gpu && gpuLayers > 0 ? `${gpu.name} (${Math.min(gpuLayers, info.nLayer + 1)} of ${info.nLayer + 1} layers incl. output)` : 'CPU',
    mmproj: mmprojPath ? (gpu && mmprojGpu ? gpu.name : 'CPU') : null,
  };
  return new Model(handle, info, { model: modelPath, mmproj: mmprojPath }, cache, mmprojId, devices, compute);
}
