/**
 * `vidlm serve --model M --mmproj P [...]`: the OpenAI-compatible server until SIGINT/SIGTERM,
 * which shut it down gracefully (in-flight requests finish or are aborted, the model is freed).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createServer } from '../server/index.js';
import { num } from '../cli-flags.js';
import { parseLiveFlags } from '../server/ui/live-sources.js';
import { threadFlags, threadValues } from '../threads/flags.js';

const options = {
  model: { type: 'string', short: 'm' },
  mmproj: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  parallel: { type: 'string' },
  queue: { type: 'string' },
  'ctx-size': { type: 'string', short: 'c' },
  'api-key': { type: 'string' },
  'media-path': { type: 'string' },
  'allow-remote': { type: 'boolean' },
  'allow-private': { type: 'boolean' },
  'max-media-mb': { type: 'string' },
  'remote-cache-mb': { type: 'string' },
  'max-duration': { type: 'string' },
  'max-frames': { type: 'string' },
  timeout: { type: 'string' },
  ...threadFlags,
  'body-timeout': { type: 'string' },
  'min-body-rate': { type: 'string' },
  'max-connections-per-client': { type: 'string' },
  alias: { type: 'string' },
  'chat-template-file': { type: 'string' },
  'no-ui': { type: 'boolean' },
  live: { type: 'string', multiple: true },
  'live-watches': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const USAGE = `usage: vidlm serve --model M.gguf --mmproj P.gguf
  [--host 127.0.0.1] [--port 8080] [--parallel N] [--queue N] [--ctx-size N]
  [--api-key K (or VIDLM_API_KEY)] [--media-path DIR] [--allow-remote [--allow-private] [--remote-cache-mb N]]
  [--max-media-mb N] [--max-duration S] [--max-frames N] [--timeout S] [--body-timeout S]
  [--min-body-rate BYTES_PER_S] [--max-connections-per-client N] [--threads N|auto] [--poll 0-100|auto]
  [--alias NAME] [--chat-template-file JINJA] [--no-ui] [--live NAME=URL ...] [--live-watches N]
`;


export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: options as never, allowPositionals: false }) as { values: Record<string, string | boolean | undefined> };
  const v = values as Record<keyof typeof options, string | undefined> & { 'allow-remote'?: boolean; 'allow-private'?: boolean; 'no-ui'?: boolean; help?: boolean };
  if (v.help) { process.stdout.write(USAGE); return 0; }
  if (!v.model || !v.mmproj) {
    process.stderr.write(`vidlm: ERR_INVALID_ARG: serve needs --model and --mmproj\n${USAGE}`);
    return 2;
  }
  const server = await createServer({
    model: { model: v.model, mmproj: v.mmproj, ...threadValues(v) },
    modelId: v.alias,
    chatTemplate: v['chat-template-file'] === undefined ? undefined : readFileSync(v['chat-template-file'], 'utf8'),
    parallel: num('parallel', v.parallel),
    queue: num('queue', v.queue),
    contextSize: num('ctx-size', v['ctx-size']),
    apiKey: v['api-key'] ?? (process.env.VIDLM_API_KEY || undefined),
    mediaPath: v['media-path'],
    allowRemote: v['allow-remote'],
    allowPrivateAddresses: v['allow-private'],
    maxMediaMb: num('max-media-mb', v['max-media-mb']),
    remoteCacheMb: num('remote-cache-mb', v['remote-cache-mb']),
    maxDuration: num('max-duration', v['max-duration']),
    maxFrames: num('max-frames', v['max-frames']),
    requestTimeout: num('timeout', v.timeout),
    ui: v['no-ui'] !== true,
    live: parseLiveFlags(values.live as unknown as string[] | undefined),
    liveWatches: num('live-watches', v['live-watches']),
    bodyTimeout: num('body-timeout', v['body-timeout']),
    minBodyRate: num('min-body-rate', v['min-body-rate']),
    maxConnectionsPerClient: num('max-connections-per-client', v['max-connections-per-client']),
  });
  const url = await server.listen({ host: v.host, port: num('port', v.port) });
  process.stderr.write(`vidlm serve: ${server.modelId} at ${url}/v1 (${num('parallel', v.parallel) ?? 1} slot(s))\n`);
  if (v['no-ui'] !== true) process.stderr.write(`vidlm serve: the page is at ${url}/\n`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      process.stderr.write(`vidlm serve: ${sig}, shutting down\n`);
      server.close().then(resolve, (e: unknown) => { process.stderr.write(`vidlm serve: ${String(e)}\n`); resolve(); });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
