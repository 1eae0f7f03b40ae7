/**
 * `vidlm worker --queue redis://… --model M --mmproj P [--concurrency N]`: loads the model once
 * and runs jobs that `vidlm batch --queue` enqueued, until SIGTERM/SIGINT (the running jobs
 * finish, or go back to the queue after --stop-timeout seconds).
 */
import { parseArgs } from 'node:util';
import { onStopSignal } from '../batch/cli-options.js';
import { num } from '../cli-flags.js';
import { checkQueueUrl, connect, DEFAULT_QUEUE_NAME, ready, shownUrl } from '../batch/queue/connection.js';
import { startWorker, type WorkerEvent } from '../batch/queue/worker.js';
import { loadModel } from '../model.js';
import { limitFlags, limitsOf, LIMITS_USAGE } from '../batch/cli-options.js';
import { threadFlags, threadValues } from '../threads/flags.js';

const USAGE = `usage: vidlm worker --queue redis://HOST:PORT --model M.gguf --mmproj P.gguf [--concurrency N]
  [--name NAME] [--threads N|auto] [--poll 0-100|auto] [--lock-ms MS] [--stalled-ms MS] [--stop-timeout S] [--json]

  --queue URL          redis:// or rediss:// (TLS); user:password@ for AUTH
  --concurrency N      jobs at once on the one loaded model (default 1)
  --name NAME          queue name (default ${DEFAULT_QUEUE_NAME})
  --lock-ms MS         job lock time: a dead worker's job is taken back after about this (default 30000)
  --stalled-ms MS      how often to look for jobs of dead workers (default 30000)
  --stop-timeout S     on SIGTERM, how long running jobs may finish before they go back to the queue (default 30)
  --json               JSON Lines events on stdout
Videos must be paths or URLs this machine can read (a shared mount, http(s), signed s3-style URLs).
${LIMITS_USAGE}
`;

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        queue: { type: 'string', short: 'q' },
        model: { type: 'string', short: 'm' },
        mmproj: { type: 'string' },
        concurrency: { type: 'string' },
        name: { type: 'string' },
        ...threadFlags,
        'lock-ms': { type: 'string' },
        'stalled-ms': { type: 'string' },
        'stop-timeout': { type: 'string' },
        'connect-timeout': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...limitFlags,
      },
    });
  } catch (e) {
    process.stderr.write(`vidlm worker: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) { process.stdout.write(USAGE); return 0; }
  if (!v.queue || !v.model || !v.mmproj) {
    process.stderr.write(`vidlm worker: --queue, --model and --mmproj are required\n\n${USAGE}`);
    return 2;
  }
  checkQueueUrl(v.queue);
  const concurrency = num('concurrency', v.concurrency, { int: true, min: 1 }) ?? 1;
  const limits = limitsOf(v);
  const lockMs = num('lock-ms', v['lock-ms'], { int: true, min: 100 });
  const stalledMs = num('stalled-ms', v['stalled-ms'], { int: true, min: 100 });
  const stopTimeoutS = num('stop-timeout', v['stop-timeout'], { min: 0 }) ?? 30;
  const name = v.name ?? DEFAULT_QUEUE_NAME;
  const say = (e: WorkerEvent | { event: string; [k: string]: unknown }) => {
    if (v.json) { process.stdout.write(`${JSON.stringify(e)}\n`); return; }
    const { event, ...rest } = e;
    process.stderr.write(`vidlm worker: ${event} ${Object.entries(rest).map(([k, x]) => `${k}=${typeof x === 'string' ? x : JSON.stringify(x)}`).join(' ')}\n`);
  };

  const model = await loadModel({ model: v.model, mmproj: v.mmproj, ...threadValues(v), limits });
  const connection = connect(v.queue);
  let offSignals = () => {};
  try {
    await ready(connection, v.queue, (num('connect-timeout', v['connect-timeout'], { min: 0 }) ?? 15) * 1000);
    const w = startWorker({ connection, name, model, concurrency, lockMs, stalledMs, onEvent: say });
    let stopped!: () => void;
    const stopping = new Promise<void>((resolve) => { stopped = resolve; });
    offSignals = onStopSignal((signal) => {
      say({ event: 'stopping', signal, timeoutS: stopTimeoutS });
      w.stop(stopTimeoutS * 1000).finally(stopped);
    });
    await w.worker.waitUntilReady();
    say({ event: 'ready', queue: shownUrl(v.queue), name, concurrency, pid: process.pid });
    await stopping;
    say({ event: 'stopped' });
    return 0;
  } finally {
    offSignals();
    model.dispose();
    connection.disconnect();
  }
}
