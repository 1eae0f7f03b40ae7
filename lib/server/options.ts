/** createServer()'s options, checked once at start (ERR_INVALID_ARG naming the option). */
import { stat } from 'node:fs/promises';
import { VidlmError } from '../errors.js';
import type { Model } from '../model.js';
import { checkLiveOptions, type CheckedLive } from './ui/live-sources.js';

export interface ServerOptions {
  /** A loaded model with its mmproj; or paths to load (the server then owns and frees it). */
  model: Model | { model: string; mmproj: string; threads?: number | 'auto'; poll?: number | 'auto' };
  /** Name /v1/models lists and responses carry. Default: the model file's base name. */
  modelId?: string;
  host?: string;
  port?: number;
  /** Requests that run at once, each in its own KV slot (default 1). */
  parallel?: number;
  /** Requests that wait for a slot, first in first out; past it the server answers 503 (default 16). */
  queue?: number;
  /** KV tokens per slot (default 4096, or the model's trained length if smaller). */
  contextSize?: number;
  /** Required `Authorization: Bearer` key; default none (process.env.VIDLM_API_KEY in the CLI). */
  apiKey?: string;
  /** Folder `file://` URLs and paths are served from; without it they are refused. */
  mediaPath?: string;
  /** Fetch http(s) media. Default false. */
  allowRemote?: boolean;
  /** Remote hosts on loopback / private / link-local addresses are refused unless this is set (tests). */
  allowPrivateAddresses?: boolean;
  /** Largest media file (data URL, download) in MB (default 64). */
  maxMediaMb?: number;
  /** Longest video in seconds (default 3600). */
  maxDuration?: number;
  /** Most frames one request may sample, all its videos together (default 512). */
  maxFrames?: number;
  /** Largest request body in MB (default: maxMediaMb × 4/3 + 1, one base64 data URL of the largest media and 1 MB of text). */
  bodyLimitMb?: number;
  /** Seconds a request may take, from its headers: body, queue wait and work (default 600). */
  requestTimeout?: number;
  /** Seconds a request's body may take to arrive (default 60, at most requestTimeout). */
  bodyTimeout?: number;
  /** Bytes per second a body must arrive at, on average, from 5 s after its headers (default 16384). */
  minBodyRate?: number;
  /** Open connections one client address (an IPv6 /64) may hold (default: max(64, 4 × (parallel + queue))). */
  maxConnectionsPerClient?: number;
  /** Seconds a remote download may take (default 30). */
  remoteTimeout?: number;
  /**
   * MB of downloaded media kept with their ETag / Last-Modified, so a repeat of a URL is asked for
   * conditionally and a 304 reuses the bytes (default 256; 0 keeps none).
   */
  remoteCacheMb?: number;
  /** The page at GET / (default true; the CLI's --no-ui turns it off). */
  ui?: boolean;
  /**
   * Live sources the page may watch, by name: `{ cam: 'rtsp://…' }` (the CLI's `--live name=url`).
   * Clients pick a name and never see or send the URL. Default none.
   */
  live?: Record<string, string>;
  /** Live watches that may run at once, each on a context of its own outside the slots (default 1). */
  liveWatches?: number;
  /**
   * A jinja chat template used instead of the model's for every request (as llama-server's
   * --chat-template-file): e.g. one that renders tools when the model's own does not.
   */
  chatTemplate?: string;
  /** Fastify logger: false (default) or true / pino options. */
  logger?: boolean | object;
}

export interface CheckedServerOptions extends CheckedLive {
  parallel: number;
  queue: number;
  contextSize?: number;
  apiKey?: string;
  mediaPath?: string;
  allowRemote: boolean;
  allowPrivateAddresses: boolean;
  maxMediaBytes: number;
  maxDuration: number;
  maxFrames: number;
  bodyLimit: number;
  requestTimeoutMs: number;
  bodyTimeoutMs: number;
  minBodyRate: number;
  maxConnectionsPerClient: number;
  /** Request bodies that may be arriving at once: max(32, 2 × (parallel + queue)). */
  maxBodies: number;
  remoteTimeoutMs: number;
  remoteCacheBytes: number;
  chatTemplate?: string;
}

function int(name: string, v: unknown, min: number, max: number, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new VidlmError('ERR_INVALID_ARG', `${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`, { option: name });
  }
  return v;
}

function num(name: string, v: unknown, min: number, max: number, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new VidlmError('ERR_INVALID_ARG', `${name} must be a number from ${min} to ${max} (got ${JSON.stringify(v)})`, { option: name });
  }
  return v;
}

function str(name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new VidlmError('ERR_INVALID_ARG', `${name} must be a non-empty string`, { option: name });
  return v;
}

export function checkServerOptions(o: ServerOptions): CheckedServerOptions {
  if (!o || typeof o !== 'object') throw new VidlmError('ERR_INVALID_ARG', 'createServer needs an options object with a model', { option: 'options' });
  const maxMediaMb = num('maxMediaMb', o.maxMediaMb, 0.001, 1 << 16, 64);
  const parallel = int('parallel', o.parallel, 1, 64, 1);
  const queue = int('queue', o.queue, 0, 1 << 16, 16);
  const requestTimeout = num('requestTimeout', o.requestTimeout, 0.001, 1e7, 600);
  return {
    parallel,
    queue,
    contextSize: o.contextSize === undefined ? undefined : int('contextSize', o.contextSize, 64, 1 << 24, 4096),
    apiKey: str('apiKey', o.apiKey),
    mediaPath: str('mediaPath', o.mediaPath),
    allowRemote: o.allowRemote === true,
    allowPrivateAddresses: o.allowPrivateAddresses === true,
    maxMediaBytes: Math.floor(maxMediaMb * 1024 * 1024),
    maxDuration: num('maxDuration', o.maxDuration, 0.001, 1e7, 3600),
    maxFrames: int('maxFrames', o.maxFrames, 1, 100_000, 512),
    bodyLimit: Math.floor(num('bodyLimitMb', o.bodyLimitMb, 0.001, 1 << 16, (maxMediaMb * 4) / 3 + 1) * 1024 * 1024),
    requestTimeoutMs: requestTimeout * 1000,
    bodyTimeoutMs: Math.min(num('bodyTimeout', o.bodyTimeout, 0.001, 1e7, 60), requestTimeout) * 1000,
    minBodyRate: num('minBodyRate', o.minBodyRate, 0, 1e12, 16384),
    maxConnectionsPerClient: int('maxConnectionsPerClient', o.maxConnectionsPerClient, 1, 1 << 20, Math.max(64, 4 * (parallel + queue))),
    maxBodies: Math.max(32, 2 * (parallel + queue)),
    remoteTimeoutMs: num('remoteTimeout', o.remoteTimeout, 0.001, 1e6, 30) * 1000,
    remoteCacheBytes: Math.floor(num('remoteCacheMb', o.remoteCacheMb, 0, 1 << 20, 256) * 1024 * 1024),
    chatTemplate: str('chatTemplate', o.chatTemplate),
    ...checkLiveOptions(o.live, o.liveWatches),
  };
}

/** The media folder exists and is a folder: a typo in --media-path is refused at the start, not answered with an error per request. */
export async function checkMediaFolder(path: string | undefined): Promise<void> {
  if (path === undefined) return;
  const st = await stat(path).catch(() => null);
  if (!st?.isDirectory()) throw new VidlmError('ERR_INVALID_ARG', `mediaPath ${path} is ${st ? 'not a folder' : 'not there'}`, { option: 'mediaPath' });
}
