/**
 * What a read learned about a video that needs no decoding to know again: the probe, the plan and
 * the sampled frames' times and sizes, kept per model under the media's identity (a file's real
 * path, size and mtime; a hash of bytes) and every query option that changes sampling. A follow-up
 * with the same video and options rebuilds its frames from here and takes their embeddings from
 * the encoder's cache (keyed by source, variant and time), or its KV prefix from a slot.
 *
 * Bounded by lru-cache (the LRU the Node ecosystem uses, with a size cap and a byte count per
 * entry) rather than another hand-made Map-LRU; an edited file gets a new identity, so its old
 * entry is never read again and ages out.
 */
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import type { AudioMedia } from '../audio/media.js';
import type { SubtitleCue, VideoInput, VideoProbe } from '../video/types.js';
import type { PlanQuery, VideoPlan } from './plan.js';
import type { ReduceSpec } from '../reduce/option.js';

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
    q.contextSize, q.fit, q.budget ?? null, q.audio ?? null, q.audioWindow ?? null, q.audioLength ?? null, q.soundOnly ?? false, q.subtitles ?? null]);
}
