/**
 * The stages before a context: open → plan → budget → sample → encode → assemble, for one video,
 * and the memo of what a read learned. ask() (prepare in index.ts) and the server call readVideo;
 * each caller adds its own inputs here, not copies of the stages: the server its media budget per
 * part, its limits before decoding, the bytes' identity and an encoder that shares running encodes
 * between requests. Encode is here too: one call to the encoder (pooled) or nothing (native).
 *
 * The memo keeps what a read learned about a video that needs no decoding to know again: the
 * probe, the plan and the sampled frames' times and sizes, per model under the media's identity (a
 * file's real path, size and mtime; a hash of bytes) and every query option that changes sampling.
 * A follow-up with the same video and options rebuilds its frames from there and takes their
 * embeddings from the encoder's cache (keyed by source, variant and time), or its KV prefix from a
 * slot. Bounded by lru-cache (the LRU the Node ecosystem uses, with a size cap and a byte count per
 * entry) rather than another hand-made Map-LRU; an edited file gets a new identity, so its old
 * entry is never read again and ages out.
 *
 * readRemembered is readVideo through the memo: a repeat of a video with the same options decodes
 * nothing it does not need. Its frames come back without pixels, at the times the first read
 * sampled; pooled, the encoder's cache gives their embeddings and only the frames it lacks are
 * decoded; native, the pixels are decoded when the caller asks (`pixels()`), which the server
 * skips when a slot already holds the prefix. Two first reads of one key at once decode it once:
 * the second waits for the first and shares its frames and embeddings.
 */
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import type { AudioMedia } from '../audio/media.js';
import type { FrameGrid } from '../assembly/types.js';
import { throwIfAborted } from '../errors.js';
import type { EncodableFrame, EncodeOptions, EncodeStats } from '../inference/encode.js';
import { checkPlanLimits, plannedMedia } from '../limits.js';
import type { Model } from '../model.js';
import { codecPlan, skipFrames, type ReduceReport } from '../reduce/pipeline.js';
import type { ReduceSpec } from '../reduce/option.js';
import { openVideo } from '../video/video.js';
import type { SubtitleCue, VideoFrame, VideoInput, VideoProbe } from '../video/types.js';
import { assemble, type Assembled, type AssembleQuery, type Encoded } from './assemble.js';
import { checkMediaBudget } from './media-budget.js';
import { planVideo, visualTokens, type PlanQuery, type VideoPlan } from './plan.js';
import { sampleEncoding } from './overlap.js';
import { sample, type SampledVideo } from './sample.js';

/** Progress of a video query, by stage; `fraction` runs 0 to 1 within each stage. */
export type Stage = 'decode' | 'encode' | 'prefill' | 'generate';
export interface ProgressEvent { stage: Stage; fraction: number }
export type ProgressListener = (event: ProgressEvent) => void;

export function stageReporter(listener: ProgressListener | undefined, stage: Stage): ((fraction: number) => void) | undefined {
  return listener ? (fraction) => listener({ stage, fraction }) : undefined;
}

export interface ReadQuery extends PlanQuery, AssembleQuery {
  model: Model;
  encodeBatchSize?: number;
  signal: AbortSignal;
  onProgress?: ProgressListener;
  /** The cache identity of the bytes (default: a file's path, size and mtime; none for bytes: keyed by pixels). */
  sourceId?: string;
  /** FFmpeg's open options for the input (the server's format and protocol allow-lists). */
  /** Counts the tokens of subtitle text (default: the model's tokenizer); the server bounds the text's length first. */
  countText?: (text: string) => number;
  ffmpegOptions?: Record<string, string | number>;
  /** The caller's limits, checked on the probe and the plan before anything is decoded. */
  check?: (probe: VideoProbe, plan: VideoPlan) => void;
  /** The encoder to use (default: the model's, through its cache). */
  encoder?: FrameEncoder;
  /** For time tokens: is `tok` one token of the model's vocabulary (default: the model's tokenizer)? */
  hasToken?: (tok: string) => boolean;
  /** A repeat on the native path leaves its frames without pixels until `pixels()` (the server: only when no slot holds the prefix). */
  lazyPixels?: boolean;
}

/** One video read and assembled: what render takes, and what it took. */
export interface ReadVideo {
  plan: VideoPlan;
  video: SampledVideo;
  encoded: Encoded;
  assembled: Assembled;
  probe: VideoProbe;
  isImage: boolean;
  decodeMs: number;
  /** Frames the decoder decoded for this read (0 for a repeat whose embeddings or prefix are held). */
  decoded: number;
  /** With `reduce`: frames sampled and kept, and the span each kept frame stands for. */
  reduced?: ReduceReport;
  /** A native repeat read with `lazyPixels`: decodes the frames' pixels (once) when the caller needs them. */
  pixels?: () => Promise<void>;
}

/**
 * Stage 2, encode: the two interchangeable encoders. pooled: vidlm runs the mmproj on the frames
 * (through the embedding cache), one grid of visual tokens per frame for a paper's pooling method;
 * native: nothing happens here, libmtmd encodes the frames inside the prefill with the model's own
 * positions (M-RoPE, temporal merges).
 */
/** What the encode stage needs of a model: its encoder through the cache. */
export interface FrameEncoder {
  encodeWithStats(frames: readonly EncodableFrame[], opts: EncodeOptions): Promise<{ grids: FrameGrid[]; stats: EncodeStats }>;
}

export async function encode(encoder: FrameEncoder, plan: Pick<VideoPlan, 'path' | 'modelTime'>, video: SampledVideo,
  opts: { source?: string; batchSize?: number; signal?: AbortSignal; onProgress?: (fraction: number) => void; missing?: EncodeOptions['missing'] }): Promise<Encoded> {
  // the model's own time (plan.ts planModelTime): frame pairs encoded once here, one grid per pair
  if (plan.path === 'native' && !plan.modelTime) return { kind: 'native', frames: video.frames };
  const { grids, stats } = await encoder.encodeWithStats(video.frames, {
    source: opts.source, variant: video.variant, batchSize: opts.batchSize, signal: opts.signal, onProgress: opts.onProgress,
    ...(plan.modelTime ? { pairs: true } : {}),
    ...(opts.missing ? { missing: opts.missing } : {}),
  });
  return { kind: 'grids', grids, ms: stats.ms, stats };
}

/** A repeat of a video with the same options goes through the memo (below) and decodes only what no cache holds. */
export function readVideo(input: VideoInput, q: ReadQuery): Promise<ReadVideo> {
  return readRemembered(input, q, (identity) => readFresh(input, q, identity));
}

async function readFresh(input: VideoInput, q: ReadQuery, identity: string | undefined): Promise<ReadVideo> {
  const { model, signal } = q;
  throwIfAborted(signal);
  const t0 = performance.now();
  // an audio model also opens files without a picture (the sound alone)
  const source = await openVideo(input, { signal, allowAudioOnly: model.info.audio, ...(q.ffmpegOptions ? { ffmpegOptions: q.ffmpegOptions } : {}) });
  let plan: VideoPlan, video: SampledVideo, decoded: number;
  let reduced: ReduceReport | undefined;
  let encoder: FrameEncoder = q.encoder ?? model;
  try {
    plan = planVideo(source.probe, model.info, q);
    q.check?.(source.probe, plan);
    // frames, audio and subtitle cues counted together before any picture is decoded
    const { budget, subtitles } = await checkMediaBudget(source, plan, model.info, q.countText ?? ((text) => model.handle.countTokens(text)), q.contextSize, signal);
    checkPlanLimits(model.limits, plannedMedia(budget, source.probe.video, model.info.imageSize));
    // reduce (lib/reduce): frame times from the codec's change, then the still frames dropped before the encoder
    const byCodec = await codecPlan(source, plan.sample, plan.count, q.reduce, plan.byCount && !plan.audioOnly, signal);
    if (byCodec) plan = { ...plan, sample: byCodec };
    // frames encoded in chunks while the rest decode, where the overlap applies (overlap.ts); else as they were
    ({ video, encoder } = await sampleEncoding(encoder, { compute: model.compute, plan, reduce: q.reduce, source: identity, batchSize: q.encodeBatchSize, signal },
      (onFrame) => sample(source, plan, model.info, q.contextSize, { signal, onProgress: stageReporter(q.onProgress, 'decode'), subtitles, ...(onFrame ? { onFrame } : {}) })));
    // reduce: the still frames dropped; a picture that came back reuses its first embedding (the skip's encoder)
    const skipped = skipFrames(video.frames, q.reduce, byCodec !== null, encoder);
    if (skipped.report) { video = { ...video, frames: skipped.frames }; reduced = skipped.report; encoder = skipped.encoder; }
  } finally {
    decoded = source.stats.framesDecoded;
    await source.close();
  }
  const decodeMs = performance.now() - t0;
  const encoded = await encode(encoder, plan, video, {
    source: identity, batchSize: q.encodeBatchSize, signal, onProgress: stageReporter(q.onProgress, 'encode'),
  });
  const hasToken = hasTokenOf(q);
  // a fixed reduce budget is a share of what the frames as sampled would have taken
  const full = reduced && plan.path === 'pooled' ? visualTokens(plan.strategy, reduced.sampled, model.info) : 0;
  const assembled = assemble(encoded, plan, video.duration, { ...q, reduceFull: full }, hasToken, video);
  return { plan, video, probe: source.probe, encoded, assembled, isImage: source.probe.isImage, decodeMs, decoded, ...(reduced ? { reduced } : {}) };
}

/** A remembered read: enough to rebuild the frames (without pixels) and to check a request's limits. */
export interface MediaMemoEntry {
  probe: VideoProbe;
  plan: VideoPlan;
  frames: { index: number; t: number; width: number; height: number }[];
  duration: number;
  variant: string;
  /** The sound the read cut (its samples: a repeat needs them for libmtmd and for the server's prefix keys). */
  audio?: AudioMedia;
  /** The subtitle cues it read. */
  cues?: SubtitleCue[];
  warning?: string;
}

/**
 * Default cap of a model's memo: the bytes its entries take (frame times, probe, plan, and the
 * sound's samples: 64 KB a second at 16 kHz, so a few minutes of sound; a longer one is not kept).
 */
export const MEDIA_MEMO_BYTES = 32 * 1024 * 1024;

export class MediaMemo<Running = unknown> {
  readonly entries: LRUCache<string, MediaMemoEntry>;
  /** First reads of a key now under way: a second request waits for it instead of decoding too. */
  readonly running = new Map<string, Promise<Running>>();

  constructor(maxBytes = MEDIA_MEMO_BYTES) {
    this.entries = new LRUCache<string, MediaMemoEntry>({ maxSize: maxBytes, sizeCalculation: entryBytes });
  }
}

/** About what an entry holds in memory: 80 bytes a frame, the probe's, plan's and cues' JSON twice (UTF-16), the sound's samples. */
function entryBytes(e: MediaMemoEntry): number {
  const sound = (e.audio?.chunks ?? []).reduce((n, c) => n + c.audio.byteLength, 0);
  return 256 + e.frames.length * 80 + 2 * (JSON.stringify(e.probe).length + JSON.stringify(e.plan).length + JSON.stringify(e.cues ?? []).length) + sound;
}

const memos = new WeakMap<object, MediaMemo>();

/** The memo of one model (its plans depend on the model; it goes when the model does). */
export function memoOf<R>(model: object): MediaMemo<R> {
  let m = memos.get(model);
  if (!m) memos.set(model, m = new MediaMemo());
  return m as MediaMemo<R>;
}

/** The identity of bytes (a data URL's, a download's, a buffer's): their hash, the same wherever they came from. */
export const bytesIdentity = (b: Uint8Array): string => `sha1:${createHash('sha1').update(b).digest('hex')}`;

/**
 * The identity of a video that needs no decoding: a regular file's real path, size and mtime
 * (an edit or a touch changes it), a hash of bytes. Undefined for what cannot be known again
 * without reading it: URLs, pipes, stdin.
 */
export async function mediaIdentity(input: VideoInput): Promise<string | undefined> {
  if (input instanceof Uint8Array) return bytesIdentity(input);
  if (typeof input !== 'string' || input === '-' || /^[a-z][a-z0-9+.-]*:\/\//i.test(input)) return undefined;
  try {
    const real = await realpath(input);
    const st = await stat(real);
    return st.isFile() ? `${real}:${st.size}:${st.mtimeMs}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The memo key: the identity and every query option that changes the plan, the frames, the sound
 * or the cues. None (not remembered) for subtitles from a file of their own, which can change
 * apart from the video, and for a read that reduces its frames by their content.
 */
export function memoKey(identity: string, q: PlanQuery): string | undefined {
  if (typeof q.subtitles === 'string' && /\.(srt|vtt|webvtt|ass|ssa)$/i.test(q.subtitles)) return undefined;
  // a reduced read keeps the frames its content chose: read fresh (the encoder's cache still holds their embeddings)
  if ((q as { reduce?: ReduceSpec | null }).reduce) return undefined;
  return JSON.stringify([identity, q.strategy, q.frames ?? null, q.fps ?? null, q.fpsRule ?? null, q.segment ?? null, q.timeTokens, q.preamble,
    q.contextSize, q.fit, q.parts ?? 1, q.audio ?? null, q.audioWindow ?? null, q.audioLength ?? null, q.soundOnly ?? false, q.subtitles ?? null]);
}

/** `fresh(identity)`: the whole read (open → … → assemble), for a first read or what the memo cannot take. */
export async function readRemembered(input: VideoInput, q: ReadQuery, fresh: (identity: string | undefined) => Promise<ReadVideo>): Promise<ReadVideo> {
  const identity = q.sourceId ?? await mediaIdentity(input);
  const key = identity === undefined ? undefined : memoKey(identity, q);
  if (key === undefined) return fresh(identity);
  const memo = memoOf<ReadVideo>(q.model);
  const running = memo.running.get(key);
  if (running) {
    const first = await untilAborted(running.catch(() => undefined), q.signal);
    if (first) return shared(first, q);
  }
  const hit = memo.entries.get(key);
  if (hit) return remembered(input, identity!, hit, q);
  const read = fresh(identity);
  memo.running.set(key, read);
  try {
    const r = await read;
    if (r.video.frames.length > 0 || (r.video.audio?.chunks.length ?? 0) > 0) memo.entries.set(key, entryOf(r));
    return r;
  } finally {
    if (memo.running.get(key) === read) memo.running.delete(key);
  }
}

function entryOf(r: ReadVideo): MediaMemoEntry {
  return {
    probe: r.probe, plan: r.plan, duration: r.video.duration, variant: r.video.variant,
    frames: r.video.frames.map((f) => ({ index: f.index, t: f.t, width: f.width, height: f.height })),
    ...(r.video.audio ? { audio: r.video.audio } : {}), ...(r.video.cues ? { cues: r.video.cues } : {}),
    ...(r.video.warning ? { warning: r.video.warning } : {}),
  };
}

function hasTokenOf(q: ReadQuery): (tok: string) => boolean {
  return q.hasToken ?? ((tok: string) => q.model.handle.countTokens(tok) === 1);
}

/** `p`, or ERR_ABORTED as soon as `signal` aborts (the documented error of every abort of a read; the raw reason is its cause). */
async function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  throwIfAborted(signal);
  let off = (): void => {};
  const aborted = new Promise<void>((resolve) => {
    signal.addEventListener('abort', resolve as () => void, { once: true });
    off = () => signal.removeEventListener('abort', resolve as () => void);
  });
  try {
    const r = await Promise.race([p, aborted]);
    throwIfAborted(signal);
    return r as T;
  } finally { off(); }
}

/** A read that waited for the same video's first read: its frames and embeddings, this query's assembly. */
function shared(first: ReadVideo, q: ReadQuery): ReadVideo {
  q.check?.(first.probe, first.plan);
  // every stage still reports, in order: here both are done
  stageReporter(q.onProgress, 'decode')?.(1);
  if (first.encoded.kind === 'grids') stageReporter(q.onProgress, 'encode')?.(1);
  const n = first.video.frames.length;
  const encoded: Encoded = first.encoded.kind === 'grids' ? { ...first.encoded, ms: 0, stats: { encoded: 0, cached: n, batches: 0, ms: 0 } } : first.encoded;
  return { ...first, encoded, assembled: assemble(encoded, first.plan, first.video.duration, q, hasTokenOf(q), first.video), decoded: 0, decodeMs: 0 };
}

/** A repeat: frames rebuilt from the memo without pixels; only those nothing else holds are decoded. */
async function remembered(input: VideoInput, identity: string, e: MediaMemoEntry, q: ReadQuery): Promise<ReadVideo> {
  const { plan, probe } = e;
  q.check?.(probe, plan);
  stageReporter(q.onProgress, 'decode')?.(1); // what a repeat must decode is decoded within encode (or by pixels())
  const frames: VideoFrame[] = e.frames.map((f) => ({ ...f, rgb: new Uint8Array(0) }));
  const video: SampledVideo = {
    frames, duration: e.duration, variant: e.variant,
    ...(e.audio ? { audio: e.audio } : {}), ...(e.cues ? { cues: e.cues } : {}), ...(e.warning ? { warning: e.warning } : {}),
  };
  let decoded = 0, decodeMs = 0;
  const decodeFrames = async (idx: number[]): Promise<VideoFrame[]> => {
    const t0 = performance.now();
    const source = await openVideo(input, { signal: q.signal, allowAudioOnly: q.model.info.audio, ...(q.ffmpegOptions ? { ffmpegOptions: q.ffmpegOptions } : {}) });
    try {
      // all of them: the first read's own plan; some: the frames at their times
      const all = idx.length === frames.length;
      const got: VideoFrame[] = [];
      for await (const f of source.frames(all ? plan.sample : { times: idx.map((i) => frames[i]!.t) }, { ...plan.frame, signal: q.signal })) got.push(f);
      idx.forEach((i, k) => {
        const f = got[k];
        if (f && f.width === frames[i]!.width && f.height === frames[i]!.height) frames[i]!.rgb = f.rgb;
      });
    } finally {
      decoded += source.stats.framesDecoded;
      await source.close();
      decodeMs += performance.now() - t0;
      if (result) Object.assign(result, { decoded, decodeMs });
    }
    return idx.map((i) => frames[i]!);
  };
  let result: ReadVideo | undefined;
  let encoded: Encoded;
  const pixels = async (): Promise<void> => {
    const idx = frames.flatMap((f, i) => (f.rgb.length === 0 ? [i] : []));
    if (idx.length > 0) await decodeFrames(idx);
  };
  if (plan.path === 'native' && !plan.modelTime) {
    if (!q.lazyPixels) await pixels();
    encoded = { kind: 'native', frames };
  } else {
    encoded = await encode(q.encoder ?? q.model, plan, video, {
      source: identity, batchSize: q.encodeBatchSize, signal: q.signal, onProgress: stageReporter(q.onProgress, 'encode'), missing: decodeFrames,
    });
  }
  const assembled = assemble(encoded, plan, video.duration, q, hasTokenOf(q), video);
  result = { plan, video, probe, encoded, assembled, isImage: probe.isImage, decoded, decodeMs, ...(plan.path === 'native' && !plan.modelTime ? { pixels } : {}) };
  return result;
}
