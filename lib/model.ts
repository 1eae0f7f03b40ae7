/**
 * loadModel(): the public entry to a GGUF LLM and its mmproj. Both files are checked by the
 * GGUF validator before llama.cpp opens them, since llama.cpp's asserts would end the process.
 */
import { availableParallelism } from 'node:os';
import { VidlmError, throwIfAborted } from './errors.js';
import { validateGguf, type GgufSummary } from './gguf/index.js';
import { native, withAbort, type NativeModel } from './native.js';
import { invalid, optionalBool, optionalFunction, optionalInt, optionalSignal, requireString } from './options.js';

export interface LoadModelOptions {
  /** Path of the LLM GGUF file. */
  model: string;
  /** Path of the mmproj GGUF file (vision/audio encoder and projector). Optional for text-only use. */
  mmproj?: string;
  /** CPU threads for the encoder and the LLM; default: all cores. */
  threads?: number;
  /** LLM layers to offload to the GPU: a count, or 'auto' (all when a GPU is present). Default 'auto'. */
  gpuLayers?: number | 'auto';
  /** Run the mmproj encoder on the GPU when there is one. Default true. */
  mmprojGpu?: boolean;
  /** Called with the loaded fraction, 0 to 1. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export interface ModelInfo {
  architecture: string;
  description: string;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nCtxTrain: number;
  nVocab: number;
  nParams: number;
  hasChatTemplate: boolean;
  vision: boolean;
  audio: boolean;
  /** Projector type of the mmproj (`mlp`, `idefics3`, `qwen2vl_merger`, …); null without an mmproj. */
  projectorType: string | null;
  /** Encoder input side in pixels; null without a vision encoder. */
  imageSize: number | null;
  patchSize: number | null;
  /** Visual-token grid of one image at the encoder's size. */
  imageGrid: { nx: number; ny: number } | null;
  tokensPerImage: number | null;
  /** Width of the projected visual tokens; equals nEmbd for a matching pair. */
  projectionDim: number | null;
  /** M-RoPE models (Qwen2-VL family) need libmtmd's own positions: the `native` strategy. */
  mrope: boolean;
  nonCausalImageAttention: boolean;
  audioSampleRate: number | null;
}

export class Model {
  readonly info: ModelInfo;
  readonly chatTemplate: string | null;
  readonly paths: { model: string; mmproj?: string };
  /** @internal */
  readonly handle: NativeModel;

  /** @internal use loadModel() */
  constructor(handle: NativeModel, info: ModelInfo, chatTemplate: string | null, paths: { model: string; mmproj?: string }) {
    this.handle = handle;
    this.info = info;
    this.chatTemplate = chatTemplate;
    this.paths = paths;
  }

  get disposed(): boolean { return this.handle.disposed; }

  /** Frees the model now; calls still running keep their own reference and finish first. */
  dispose(): void { this.handle.dispose(); }

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

function resolveGpuLayers(v: LoadModelOptions['gpuLayers']): number {
  if (v === undefined || v === 'auto') {
    const hasGpu = native().versions().backends.some((b) => b.devices.some((d) => d.type === 'gpu' || d.type === 'igpu'));
    return hasGpu ? 999 : 0;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalid('gpuLayers', "a non-negative integer or 'auto'", v);
  return v;
}

export async function loadModel(options: LoadModelOptions): Promise<Model> {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'an object', options);
  const modelPath = requireString('model', options.model);
  const mmprojPath = options.mmproj === undefined ? undefined : requireString('mmproj', options.mmproj);
  const threads = optionalInt('threads', options.threads, 1, 1024, availableParallelism());
  const mmprojGpu = optionalBool('mmprojGpu', options.mmprojGpu, true);
  const onProgress = optionalFunction<(f: number) => void>('onProgress', options.onProgress);
  const signal = optionalSignal('signal', options.signal);
  const gpuLayers = resolveGpuLayers(options.gpuLayers);
  throwIfAborted(signal);

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

  const handle = await withAbort(signal, (token) =>
    native().loadModel({ model: modelPath, mmproj: mmprojPath, threads, gpuLayers, mmprojGpu }, token, onProgress));
  const n = handle.info();
  const vision = n.vision;
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
    imageSize: vision && proj ? kvNumber(proj, 'clip.vision.image_size') : null,
    patchSize: vision && proj ? kvNumber(proj, 'clip.vision.patch_size') : null,
    imageGrid: vision ? { nx: n.imageNx, ny: n.imageNy } : null,
    tokensPerImage: vision ? n.imageTokens : null,
    projectionDim: proj ? projectorOutputDim(proj) ?? n.nEmbdInp : null,
    mrope: n.mrope,
    nonCausalImageAttention: n.nonCausalImageAttention,
    audioSampleRate: n.audio ? n.audioSampleRate : null,
  };
  return new Model(handle, info, n.chatTemplate, { model: modelPath, mmproj: mmprojPath });
}
