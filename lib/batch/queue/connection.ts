/**
 * Redis connections for the queue. The URL is `redis://[user:password@]host:port[/db]` or
 * `rediss://…` for TLS (ioredis reads AUTH, db and TLS from it). Every connection retries
 * without limit and waits out an outage (commands queue until Redis is back), so workers and
 * the collector go on after Redis restarts; only the first connection has a deadline.
 */
import { Redis } from 'ioredis';
import { VidlmError } from '../../errors.js';

export const DEFAULT_QUEUE_NAME = 'vidlm';

export function checkQueueUrl(url: string): URL {
  let u: URL;
  try { u = new URL(url); } catch { throw new VidlmError('ERR_INVALID_ARG', `--queue must be a redis:// or rediss:// URL (got ${JSON.stringify(url)})`, { option: 'queue' }); }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new VidlmError('ERR_INVALID_ARG', `--queue must be a redis:// or rediss:// URL (got ${u.protocol}//)`, { option: 'queue' });
  }
  return u;
}

/** The URL without its password, for messages. */
export function shownUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** A connection BullMQ can use for queues, workers and events (it duplicates it for blocking reads). */
export function connect(url: string): Redis {
  checkQueueUrl(url);
  const redis = new Redis(url, {
    maxRetriesPerRequest: null, // BullMQ workers require it; everyone waits out an outage
    retryStrategy: (times) => Math.min(100 * times, 2000),
    lazyConnect: true,
  });
  redis.on('error', () => {}); // reported through ready() and the BullMQ objects' 'error' events
  return redis;
}

/** Connects, or fails with ERR_QUEUE_CONNECT after `timeoutMs`. */
export async function ready(redis: Redis, url: string, timeoutMs = 15_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let lastError = '';
  const onError = (e: Error) => { lastError = e.message; };
  redis.on('error', onError);
  try {
    await Promise.race([
      redis.connect().catch((e: Error) => {
        // connect() rejects on the first failure; ioredis keeps retrying in the background
        lastError = e.message;
        return new Promise<void>((resolve) => redis.once('ready', () => resolve()));
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new VidlmError('ERR_QUEUE_CONNECT',
          `cannot reach Redis at ${shownUrl(url)} within ${timeoutMs / 1000} s${lastError ? `: ${lastError}` : ''}`, { url: shownUrl(url) })), timeoutMs);
      }),
    ]);
  } catch (e) {
    redis.disconnect();
    throw e;
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
  }
}
