/**
 * readVideo through the media memo (media-memo.ts): a repeat of a video with the same options
 * decodes nothing it does not need. Its frames come back without pixels, at the times the first
 * read sampled; pooled, the encoder's cache gives their embeddings and only the frames it lacks
 * are decoded; native, the pixels are decoded when the caller asks (`pixels()`), which the server
 * skips when a slot already holds the prefix. Two first reads of one key at once decode it once:
 * the second waits for the first and shares its frames and embeddings.
 */
import { throwIfAborted } from '../errors.js';
import { openVideo } from '../video/video.js';
import type { VideoFrame, VideoInput } from '../video/types.js';
import { assemble } from './assemble.js';
import { encode, type Encoded } from './encode.js';
import { mediaIdentity, memoKey, memoOf, type MediaMemoEntry } from './media-memo.js';
import { stageReporter } from './progress.js';
import type { ReadQuery, ReadVideo } from './read-types.js';
import type { SampledVideo } from './sample.js';

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

async function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  throwIfAborted(signal);
  let off = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    const on = (): void => reject(signal.reason);
    signal.addEventListener('abort', on, { once: true });
    off = () => signal.removeEventListener('abort', on);
  });
  try { return await Promise.race([p, aborted]); } finally { off(); }
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
      const got = await source.sample(all ? plan.sample : { times: idx.map((i) => frames[i]!.t) }, { ...plan.frame, signal: q.signal });
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
