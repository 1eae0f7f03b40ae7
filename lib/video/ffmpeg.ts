/**
 * Lazy, stdout-clean loader of beamcoder (FFmpeg's libav* through N-API, GPL-3.0-or-later).
 *
 * beamcoder's index.js prints a licence banner with console.log and installs a segfault handler
 * that writes crash.log into the working directory. vidlm loads the compiled binding directly
 * (build/Release/beamcoder.node), which does neither; if that path does not exist it falls back
 * to `require('beamcoder')` with console.log silenced for the duration of the call.
 * Nothing is loaded until the first video call, so importing vidlm costs nothing.
 */
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type * as BC from 'beamcoder';
import type { Decoder, Demuxer, Frame, Packet } from 'beamcoder';
import { VidlmError } from '../errors.js';

export type Beamcoder = typeof BC;
export type { Demuxer, Decoder, Frame, Packet, Filterer, Stream } from 'beamcoder';

let loading: Promise<Beamcoder> | undefined;
let patchWarned = false;

/** FFmpeg log level used by vidlm (`VIDLM_FFMPEG_LOG` overrides; default: quiet). */
export function ffmpegLogLevel(): string {
  return process.env.VIDLM_FFMPEG_LOG || 'quiet';
}

function loadSync(): Beamcoder {
  const require = createRequire(import.meta.url);
  try {
    return require('beamcoder/build/Release/beamcoder.node') as Beamcoder;
  } catch {
    const log = console.log;
    console.log = () => {};
    try {
      return require('beamcoder') as Beamcoder;
    } finally {
      console.log = log;
    }
  }
}

/** Loads beamcoder once; rejects with ERR_NATIVE_LOAD when it cannot be loaded. */
export function loadBeamcoder(): Promise<Beamcoder> {
  loading ??= Promise.resolve().then(() => {
    let bc: Beamcoder;
    try {
      bc = loadSync();
    } catch (err) {
      loading = undefined;
      throw new VidlmError('ERR_NATIVE_LOAD', `beamcoder (FFmpeg bindings) could not be loaded: ${(err as Error).message}`, undefined, { cause: err });
    }
    bc.logging(ffmpegLogLevel());
    if (!((bc as unknown as { VIDLM_PATCH_LEVEL?: number }).VIDLM_PATCH_LEVEL! >= 1) && !patchWarned) {
      patchWarned = true;
      process.emitWarning('beamcoder is not patched: failed opens can crash the process. Run `node scripts/patch-beamcoder.mjs` (the postinstall step).', { code: 'VIDLM_BEAMCODER_UNPATCHED' });
    }
    return bc;
  });
  return loading;
}

/** AV_NOPTS_VALUE as beamcoder reports it (a double near -2^63). */
export function isNoPts(v: number | null | undefined): boolean {
  return v === null || v === undefined || !Number.isFinite(v) || v <= -9.2e18;
}

type GcFn = (opts?: { type?: 'major' | 'minor' }) => void;
let gcFn: GcFn | null | undefined;
let pendingBytes = 0;

/**
 * Decoded frames live in FFmpeg's memory and are released when their JavaScript wrappers are
 * garbage-collected, but V8 does not see that memory and may let hundreds of 720p frames pile up.
 * After every `VIDLM_GC_MB` (default 96) MB of decoded pictures vidlm runs a full
 * collection (set VIDLM_GC_MB=0 to never do so); dropped decoders count too, since each holds
 * its reference pictures and per-thread contexts. The gc function is taken from a fresh context
 * after enabling --expose-gc; the main context's globals are not changed.
 */
export function noteFrameMemory(bytes: number): void {
  const limitMb = Number(process.env.VIDLM_GC_MB ?? 96);
  if (!(limitMb > 0)) return;
  pendingBytes += bytes;
  if (pendingBytes < limitMb * 2 ** 20) return;
  pendingBytes = 0;
  if (gcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as GcFn;
    } catch {
      gcFn = null;
    }
  }
  gcFn?.({ type: 'major' });
}

/** The batch calls of a patched beamcoder (scripts/beamcoder/vidlm_batch.cc). */
export interface BatchCalls {
  /** Packets of one stream until one has a timestamp >= until, `max` packets (64), `max_bytes`
   *  of data (16 MiB), or the end of file. */
  readPackets(dm: Demuxer, options: { stream_index: number; until?: number; max?: number; max_bytes?: number }): Promise<Packet[]>;
  /** Decodes the packets in order (non-key packets before skip_before with skip_frame = nonref);
   *  pictures before drop_before are freed natively, except the latest of them. */
  decodePackets(dec: Decoder, packets: Packet[], options: { skip_before?: number; drop_before?: number }): Promise<{ frames: Frame[]; dropped: number; errors: number }>;
}

/** The batch calls, or null for a beamcoder without them (or with VIDLM_BATCH=0). */
export function batchCalls(bc: Beamcoder): BatchCalls | null {
  if (process.env.VIDLM_BATCH === '0') return null;
  const b = bc as unknown as { vidlm_readPackets?: BatchCalls['readPackets']; vidlm_decodePackets?: BatchCalls['decodePackets'] };
  if (typeof b.vidlm_readPackets !== 'function' || typeof b.vidlm_decodePackets !== 'function') return null;
  return { readPackets: b.vidlm_readPackets, decodePackets: b.vidlm_decodePackets };
}
