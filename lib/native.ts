/**
 * Typed loader of the native addon (vidlm.node). node-gyp-build finds a prebuilt binary under
 * prebuilds/<platform>-<arch>/ or, for developers, build/Release/; lib/loader.ts then loads the
 * backend plug-ins a prebuild needs (CUDA, Vulkan, CPU variants). Everything here is internal:
 * the public API (lib/index.ts) validates options before any of it is called.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VidlmError } from './errors.js';
import { resolveLayout, selectBackends, type LoadResult, type Selection } from './loader.js';

/** One chunk libmtmd evaluated in a prefillMedia call, in order: text, an image (a frame or a merged frame pair) or an audio clip. */
export interface MediaChunkReport {
  type: 'text' | 'image' | 'audio';
  /** Embeddings (KV cells) of the chunk. */
  tokens: number;
  /** Positions it takes (M-RoPE: an image takes fewer than its tokens). */
  positions: number;
  /** Its first position in the sequence. */
  pos: number;
}

export interface NativeDevice {
  name: string;
  description: string;
  type: 'cpu' | 'gpu' | 'igpu' | 'accel' | 'unknown';
  memoryFree: number;
  memoryTotal: number;
}

export interface NativeVersions {
  vidlm: string;
  llamaCpp: { tag: string; commit: string };
  backends: { name: string; devices: NativeDevice[]; features: Record<string, string> }[];
  cpuFeatures: string[];
  /**
   * The CPU kernels in use: a prebuild's CPU plug-in picked for this CPU ('haswell', 'zen4',
   * 'sapphirerapids', 'armv8.2_2'...), or 'native' / 'portable' for a compiled-in CPU backend.
   */
  cpuVariant: string;
  /** Backend plug-ins loaded from disk (full paths); empty for a compiled-in build. */
  backendLibraries: string[];
  systemInfo: string;
  gpuOffload: boolean;
  /** How the loader chose: VIDLM_BACKEND, the backend selected, the addon file, warnings. */
  loader: Selection;
}

export interface NativeModelInfo {
  architecture: string;
  description: string;
  nEmbd: number;
  nEmbdInp: number;
  nLayer: number;
  nHead: number;
  nCtxTrain: number;
  nVocab: number;
  nParams: number;
  hasChatTemplate: boolean;
  chatTemplate: string | null;
  vision: boolean;
  audio: boolean;
  audioSampleRate: number;
  mrope: boolean;
  nonCausalImageAttention: boolean;
  /** The visual-token grid of one image: libmtmd's, or the square patch grid of a LLaVA projector's row of tokens. */
  imageNx: number;
  imageNy: number;
  imageTokens: number;
  mediaMarker: string;
  addBos: boolean;
  bosToken: number;
  /** Tokens libmtmd puts before / after each image (e.g. <start_of_image>). */
  imageBefore: Int32Array;
  imageAfter: Int32Array;
  /** libmtmd's encoder thread count can be set per call (vidlm's mirror of its context matched). */
  encoderThreadsPerCall: boolean;
}

export interface NativeEncodedFrame { nx: number; ny: number; dim: number; data: Float32Array }

export interface NativeFrameInput { width: number; height: number; rgb: Uint8Array }

export interface NativeContextOptions {
  contextSize?: number;
  batchSize?: number;
  threads?: number;
  sequences?: number;
  flashAttention?: -1 | 0 | 1;
  kvType?: 'f16' | 'q8_0' | 'f32';
}

/** The native side adds the model's BOS and picks the attention of embedding blocks (non-causal where libmtmd's images need it). */
export type NativePlanItem = { tokens: Int32Array } | {
  embeddings: Float32Array;
  count: number;
  /** M-RoPE models only: 4 sections of `count` (t, h, w, extra) relative to the block's start, and the positions it advances. */
  positions?: Int32Array;
  span?: number;
};

export interface NativeGenerateParams {
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  repeatLastN?: number;
  seed?: number;
  stop?: string[];
  grammar?: string;
  /** The text the prompt ends with that `grammar` starts with (a chat format's tool-call grammar). */
  grammarPrefill?: string;
  jsonSchema?: string;
}

export interface NativeGenerateResult {
  text: string;
  generated: number;
  stopReason: 'eos' | 'stop' | 'maxTokens' | 'contextFull' | 'aborted';
  firstTokenMs: number;
  generateMs: number;
  nPast: number;
}

export interface NativeContext {
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  detokenize(tokens: Int32Array, special: boolean): string;
  /** frames: pictures, or `{ audio }` mono PCM at the encoder's rate (libmtmd's audio path). */
  prefillMedia(text: string, frames: (NativeFrameInput | { audio: Float32Array; tokens?: number })[], seq: number, mergeable: boolean, abort?: NativeAbortToken, onProgress?: (f: number) => void): Promise<{ evaluated: number; nPast: number; ms: number; mediaTokens: number; chunks: MediaChunkReport[] }>;
  prefill(items: NativePlanItem[], seq: number, abort?: NativeAbortToken, onProgress?: (f: number) => void, mergeText?: boolean, addBos?: boolean): Promise<{ evaluated: number; nPast: number; ms: number; decodes: number }>;
  generate(params: NativeGenerateParams, seq: number, onPiece: (piece: string) => void, abort?: NativeAbortToken): Promise<NativeGenerateResult>;
  nPast(seq: number): number;
  kvCopy(src: number, dst: number): void;
  kvTruncate(seq: number, pos: number): void;
  size(): { contextSize: number; batchSize: number; sequences: number; threads: number };
  /** Threads (1 to 1024) and polling level (-1: ggml's per-graph pool; 0 to 100) of the next graphs; a running call follows at its next decode. */
  setCompute(threads: number, poll: number): void;
  dispose(): void;
}

export interface NativeAbortToken {
  abort(): void;
  readonly aborted: boolean;
}

/** What common_chat_templates_apply returns for a request with tools. */
export interface NativeToolsTemplate {
  /** The template renders tool definitions / assistant tool calls and tool results (llama.cpp's caps). */
  supportsTools: boolean;
  supportsToolCalls: boolean;
  prompt: string;
  grammar: string;
  grammarLazy: boolean;
  /** `grammar` without the generation prompt it starts with ('' when it does not): what the model generates. */
  grammarAfterPrompt: string;
  grammarTriggers: { type: number; value: string }[];
  format: number;
  formatName: string;
  generationPrompt: string;
  parser: string;
  additionalStops: string[];
}

/** A model's output as its chat format's parser reads it. */
export interface NativeParsedOutput {
  content: string;
  reasoningContent: string;
  toolCalls: { name: string; arguments: string; id: string }[];
}

export interface NativeModel {
  info(): NativeModelInfo;
  dispose(): void;
  readonly disposed: boolean;
  /** pairs: frames 2k, 2k+1 merged into one temporal step (one output each; an odd last frame alone). */
  encode(frames: NativeFrameInput[], batchSize: number, abort?: NativeAbortToken, onProgress?: (f: number) => void, pairs?: boolean): Promise<{ frames: NativeEncodedFrame[]; batches: number; ms: number }>;
  /** An audio clip's embeddings read out (every chunk's, libmtmd's padding included): native/encode_audio.cpp. */
  encodeAudio(pcm: Float32Array, abort?: NativeAbortToken): Promise<{ data: Float32Array; tokens: number; dim: number; chunks: number; ms: number }>;
  applyTemplate(messages: { role: string; content: string }[], opts?: { addAssistant?: boolean; template?: string }): string;
  /** applyTemplate on a worker thread (llama.cpp analyses the template on each call: ~2 ms). */
  applyTemplateAsync(messages: { role: string; content: string }[], opts?: { addAssistant?: boolean; template?: string }): Promise<string>;
  /** llama.cpp's chat params for a request with tools (common_chat_templates_apply), on a worker thread. */
  applyToolsTemplateAsync(messagesJson: string, toolsJson: string, opts: { toolChoice: 'auto' | 'none' | 'required'; parallelToolCalls?: boolean; template?: string }): Promise<NativeToolsTemplate>;
  /** The model's output parsed by its chat format (common_chat_parse): content and tool calls, on a worker thread. */
  parseChatOutputAsync(text: string, opts: { partial: boolean; format: number; generationPrompt: string; parser: string }): Promise<NativeParsedOutput>;
  formatTurn(history: { role: string; content: string }[], message: [{ role: string; content: string }], opts?: { addAssistant?: boolean; template?: string }): string;
  createContext(opts: NativeContextOptions): Promise<NativeContext>;
  /** Throws ERR_GRAMMAR unless llama.cpp accepts the GBNF (size and nesting bounded first). */
  checkGrammar(gbnf: string): void;
  /** A JSON schema's GBNF, through llama.cpp's converter (ERR_GRAMMAR on failure). */
  schemaToGrammar(json: string): string;
  /** The text's tokens (no BOS; special tokens parsed unless false), tokenized on a worker thread. */
  tokenizeAsync(text: string, parseSpecial?: boolean): Promise<Int32Array>;
  /** The vocabulary's longest token piece in bytes: B bytes of text are at least B / this tokens. */
  maxTokenBytes(): number;
  /** Tokens of `text` (special tokens parsed, no BOS), without a context: budgets before any work. */
  countTokens(text: string): number;
  /** The encoder's threads for the next encoder batches (where info().encoderThreadsPerCall). */
  setCompute(threads: number, poll: number): void;
}

export interface NativeLoadOptions {
  model: string;
  mmproj?: string;
  threads: number;
  gpuLayers: number;
  mmprojGpu: boolean;
  /** The encoder's input side (clip.vision.image_size): the size an M-RoPE model's grid is probed at (frames are sampled at it). */
  probeSize?: number;
}

export interface NativeStreamInfo {
  index: number;
  type: 'video' | 'audio' | 'subtitle' | 'other';
  /** The container's language and title tags, when set. */
  language?: string;
  title?: string;
  codec: string;
  profile?: string;
  timeBase: [number, number];
  /** Stream ticks; null when unknown. */
  startTime: number | null;
  duration: number | null;
  nbFrames: number;
  isDefault: boolean;
  attachedPic: boolean;
  /** The build has a decoder for its codec (absent: not reported). */
  decodable?: boolean;
  width?: number;
  height?: number;
  pixFmt?: string;
  bitDepth?: number;
  sar?: [number, number];
  avgFps?: [number, number];
  rFps?: [number, number];
  displayMatrix?: number[] | null;
  sampleRate?: number;
  channels?: number;
  channelLayout?: string;
  sampleFormat?: string;
}

export interface NativeMediaInfo {
  format: string;
  /** Seconds; null when unknown. */
  duration: number | null;
  startTime: number | null;
  bitRate: number;
  streams: NativeStreamInfo[];
}

/** How decoded pictures become RGB24 (native/video/convert.h). */
export interface NativeConvertSpec {
  width?: number;
  height?: number;
  fit?: 'stretch' | 'pad' | 'crop';
  padColor?: [number, number, number];
  scaler?: string;
  /** The stream's display matrix; absent: the frame's own (a JPEG's EXIF orientation). */
  matrix?: number[] | null;
}

export interface NativeFrame { t: number; clamped: boolean; width: number; height: number; rgb: Buffer }

/** What live.ts's sampling knows: times in seconds (tb: seconds per tick) except `prevT` (ticks). */
export interface NativeLiveSampling { tb: number; first: number | null; nextT: number; prevT: number | null; prevWall: number; maxJump: number; yieldMs: number; audioStream?: number; audioRate?: number }

/** `rgb` only when kept; `discontinuity`: isDiscontinuity() from the frame before (prevT, prevWall ms). */
export type NativeLiveFrame = { wall: number; prevT: number | null; prevWall: number; discontinuity: boolean; skipped: number;
  /** With `audioStream`: the sound decoded during the call, mono at `audioRate`, in runs stamped with their first sample's stream time (seconds). */
  audio?: { t: number; samples: Float32Array }[] } &
  ({ kept: true; t: number; width: number; height: number; rgb: Buffer } | { kept: false; /** null: sound came and no picture for yieldMs */ t: number | null });

export interface NativeWalkStats { seeks: number; packetsRead: number; packetsDecoded: number; framesDecoded: number; decodeErrors: number }

export interface NativeMediaSource {
  open(input: string | Uint8Array, options: { format?: string; options?: [string, string][]; timeoutMs: number; network: boolean; maxPixels: number; display: string }, abort?: NativeAbortToken): Promise<NativeMediaInfo>;
  /** The first frame at or after each target (stream ticks, ascending), converted; null where none.
   *  `fresh`: a new walk, whose targets may lie before the last one's. */
  walk(stream: number, targets: number[], spec: NativeConvertSpec, options: { threads: number; strategy: string; fresh: boolean }, abort?: NativeAbortToken): Promise<{ frames: (NativeFrame | null)[]; stats: NativeWalkStats }>;
  /** Live sources: reads on to the next frame the sampling keeps (lib/video/live.ts; the others are
   *  decoded and dropped unconverted) or, when none came in `yieldMs`, the last frame's time
   *  alone (kept: false); null at the end of the stream. */
  liveNext(stream: number, sampling: NativeLiveSampling, spec: NativeConvertSpec, threads: number, abort?: NativeAbortToken): Promise<NativeLiveFrame | null>;
  /** Every packet's time (stream ticks, ascending), and (addons from #25 on) its bytes and keyframe flag. */
  scan(stream: number, abort?: NativeAbortToken): Promise<{ pts: Float64Array; end: number; sizes?: Float64Array; keys?: Uint8Array; untimed?: number }>;
  hasPacket(stream: number, abort?: NativeAbortToken): Promise<boolean>;
  audio(stream: number, options: { start: number; end: number; origin: number; rate: number; channels: number }, abort?: NativeAbortToken): Promise<Float32Array>;
  /** A text subtitle stream's cues (seconds relative to `origin`; end null: until the next cue)
   *  and the count of packets the decoder rejected. */
  subtitles(stream: number, origin: number, abort?: NativeAbortToken): Promise<{ cues: { start: number; end: number | null; text: string }[]; errors: number }>;
  /** The running call and every later one return at once. */
  interrupt(): void;
  /** Frees FFmpeg's contexts once the running call (if any) returned. */
  close(): Promise<void>;
}

export interface NativeFFmpegVersions { version: string; avcodec: string; avformat: string; avutil: string; swscale: string; swresample: string; dir: string }

export interface NativeAddon {
  MediaSource: new () => NativeMediaSource;
  encodePng(width: number, height: number, rgb: Uint8Array): Promise<Buffer>;
  /** Loads FFmpeg's libraries if needed; throws ERR_NATIVE_LOAD when they cannot be. */
  ffmpegVersions(): NativeFFmpegVersions;
  /** Pictures converted to RGB by this process so far (tests count what live sampling converts). */
  videoCounters(): { conversions: number };
  /**
   * Images that came out of the vision encoder in this process so far (Model.encode()'s frames and the
   * image chunks prefillMedia() encodes; a merged frame pair is one chunk) and the encoder graphs run:
   * tests and benchmarks count encodes here rather than trusting the surface's own report.
   */
  encoderCounters(): { framesEncoded: number; graphs: number };
  /** What the LLM's thread settings did, process-wide (native/compute.h): graphs, graphs that started threads of their own, pools made, thread-count changes. */
  computeCounters(): { graphs: number; perGraphPool: number; poolsMade: number; threadChanges: number };
  versions(): NativeVersions;
  /** Present in addons built with this loader: whether backends are plug-ins, and the .node path. */
  backendInfo?(): { dynamic: boolean; addonPath: string };
  loadBackend?(dir: string, name: string): LoadResult;
  setErrorClass(ctor: new (code: string, message: string) => Error): void;
  AbortToken: new () => NativeAbortToken;
  loadModel(options: NativeLoadOptions, abort?: NativeAbortToken, onProgress?: (fraction: number) => void): Promise<NativeModel>;
}

/** The package root: two levels up from dist/native.js and from lib/native.ts alike. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

let addon: NativeAddon | undefined;
let warned = false;

export function native(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  let loaded: NativeAddon;
  let selection: Selection;
  try {
    const layout = resolveLayout({ root: packageRoot });
    loaded = require(layout.addon) as NativeAddon;
    selection = selectBackends(loaded, layout, process.env.VIDLM_BACKEND);
  } catch (e) {
    throw new VidlmError('ERR_NATIVE_LOAD',
      `the vidlm native addon could not be loaded (${(e as Error).message}); ` +
      'install a prebuilt binary for this platform or build it with `npm run build`', undefined, { cause: e });
  }
  // One line, once per module instance (each worker thread that loads vidlm has its own).
  if (selection.warnings.length && !warned) {
    warned = true;
    process.stderr.write(`vidlm: warning: ${selection.warnings.join('; ')}\n`);
  }
  const raw = loaded.versions.bind(loaded);
  loaded.versions = () => ({ ...raw(), loader: selection });
  addon = loaded;
  // Native errors are created as VidlmError instances (its constructor takes code, message first).
  addon.setErrorClass(VidlmError as unknown as new (code: string, message: string) => Error);
  return addon;
}

/**
 * Runs `fn` with a native abort token tied to `signal`; the token is unhooked when `fn` settles
 * so long-lived signals do not collect listeners.
 */
export async function withAbort<T>(signal: AbortSignal | undefined, fn: (token: NativeAbortToken) => Promise<T>): Promise<T> {
  const token = new (native().AbortToken)();
  if (!signal) return fn(token);
  const onAbort = () => token.abort();
  if (signal.aborted) token.abort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await fn(token);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
