/**
 * https videos for batch jobs. vidlm's FFmpeg build has no TLS (docs/video.md), so an https URL
 * (an s3-style URL signed by the producer, say) is downloaded by Node's own fetch into a temp
 * file first, streamed to disk, and the job runs on that file. Failures are ERR_VIDEO_OPEN
 * (not retried in the queue: a 403 or 404 answers the same next time), a stalled download
 * ERR_VIDEO_TIMEOUT (retried).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VidlmError } from '../errors.js';

export const needsDownload = (video: string): boolean => /^https:\/\//i.test(video);

/** Runs `use` on a local copy of an https video, removed afterwards. */
export async function withDownload<T>(url: string, signal: AbortSignal | undefined, use: (path: string) => Promise<T>, stallMs = 30_000): Promise<T> {
  const shown = url.replace(/\?.*$/, '?…'); // a signed URL's query is a secret
  const dir = await mkdtemp(join(tmpdir(), 'vidlm-batch-'));
  const stall = new AbortController();
  let timer = setTimeout(() => stall.abort(), stallMs);
  const bump = () => { clearTimeout(timer); timer = setTimeout(() => stall.abort(), stallMs); };
  try {
    const file = join(dir, 'video');
    try {
      const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, stall.signal]) : stall.signal });
      if (!res.ok || !res.body) throw new VidlmError('ERR_VIDEO_OPEN', `cannot download ${shown}: HTTP ${res.status}`, { source: shown, reason: 'http-error', status: res.status });
      const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
      body.on('data', bump);
      await pipeline(body, createWriteStream(file));
    } catch (e) {
      if (e instanceof VidlmError) throw e;
      if (signal?.aborted) throw e;
      if (stall.signal.aborted) throw new VidlmError('ERR_VIDEO_TIMEOUT', `download of ${shown} stalled for ${stallMs / 1000} s`, { source: shown, reason: 'timeout' }, { cause: e });
      throw new VidlmError('ERR_VIDEO_OPEN', `cannot download ${shown}: ${(e as Error).message}`, { source: shown, reason: 'open-failed' }, { cause: e });
    } finally {
      clearTimeout(timer);
    }
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
