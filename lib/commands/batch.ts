/**
 * `vidlm batch jobs.jsonl --model M --mmproj P --out results.jsonl [--parallel N]` runs a jobs
 * file on this machine; with `--queue redis://…` it enqueues the jobs for `vidlm worker`s and
 * collects their results (or returns at once with --detach); `--queue URL --status` prints counts.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue, QueueEvents } from 'bullmq';
import { jobDefaultFlags, jobDefaults, limitFlags, limitsOf, LIMITS_USAGE, onStopSignal } from '../batch/cli-options.js';
import { num, withSoundValues } from '../cli-flags.js';
import { parseJobs, type JobEntry } from '../batch/jobs.js';
import { Journal } from '../batch/journal.js';
import { runLocalBatch } from '../batch/local.js';
import { collect } from '../batch/queue/collect.js';
import { checkQueueUrl, connect, DEFAULT_QUEUE_NAME, ready } from '../batch/queue/connection.js';
import { enqueue } from '../batch/queue/producer.js';
import { queueStatus } from '../batch/queue/status.js';
import { BarReporter, JsonReporter, QuietReporter, type BatchReporter, type BatchSummary } from '../batch/reporter.js';
import { entryErrorLine } from '../batch/result.js';
import { VidlmError } from '../errors.js';
import { loadModel, type Model } from '../model.js';
import { threadFlags, threadValues } from '../threads/flags.js';

const USAGE = `usage: vidlm batch JOBS.jsonl --model M.gguf --mmproj P.gguf --out RESULTS.jsonl [--parallel N] [--json]
       vidlm batch JOBS.jsonl --queue redis://HOST:PORT --out RESULTS.jsonl [--detach] [--json]
       vidlm batch --queue redis://HOST:PORT --status [--json]

Each line of JOBS.jsonl: { "id", "video", "task": "ask"|"describe"|"localize", "question"?, "options"? }.
Each line of RESULTS.jsonl: { "id", "text", "start"?, "end"?, "tokens", "timings" } or { "id", "error": { "code", "message" } }.
The results file is the journal: a rerun skips the ids already in it.

  --parallel N        jobs at once on the one loaded model (default 1)
  --threads N|auto    CPU threads of the model (auto: free cores, shared by the jobs; docs/deploy.md)
  --poll 0-100|auto   ggml's polling level (auto: its per-graph pool)
  --queue URL         redis:// or rediss:// (TLS); user:password@ for AUTH. Workers: vidlm worker
  --name NAME         queue name (default ${DEFAULT_QUEUE_NAME})
  --detach            enqueue and exit; collect later by running the same command without it
  --status            print waiting, delayed, active, done and failed counts, and workers
  --attempts N        tries per queued job before it fails (default 3); --backoff-ms MS first retry delay (default 1000)
  --json              JSON Lines events on stdout instead of the progress bar
Job defaults (a job's own "options" win): --strategy --frames --fps --fps-rule --time-tokens --max-tokens --temp --seed --ctx-size
  --audio [interleave|prefix] --audio-window S --audio-length real|padded --subtitles [LANG|FILE] (a FILE is taken from the current folder;
  a job's own "subtitles": "x.srt" from the jobs file's folder, like its video)
${LIMITS_USAGE}
`;

const flags = {
  ...jobDefaultFlags,
  ...limitFlags,
  model: { type: 'string', short: 'm' },
  mmproj: { type: 'string' },
  out: { type: 'string', short: 'o' },
  parallel: { type: 'string', short: 'p' },
  ...threadFlags,
  queue: { type: 'string', short: 'q' },
  name: { type: 'string' },
  detach: { type: 'boolean' },
  status: { type: 'boolean' },
  attempts: { type: 'string' },
  'backoff-ms': { type: 'string' },
  'connect-timeout': { type: 'string' },
  'sweep-ms': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usageError(message: string): number {
  process.stderr.write(`vidlm batch: ${message}\n\n${USAGE}`);
  return 2;
}

async function readJobs(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw new VidlmError('ERR_FILE_NOT_FOUND', `no such file: ${path}`, { path });
    throw new VidlmError('ERR_INVALID_ARG', `cannot read ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
}

function reporterFor(json: boolean | undefined): BatchReporter {
  if (json) return new JsonReporter();
  return process.stderr.isTTY ? new BarReporter(process.stderr) : new QuietReporter();
}

function summarize(s: BatchSummary, out: string | undefined, json: boolean | undefined, interrupted: boolean): void {
  if (json) return;
  const where = out ? ` → ${out}` : '';
  process.stderr.write(`vidlm batch: ${s.done} done (${s.failed} failed), ${s.skipped} already done, ${s.total} in all, ${s.jobsPerMinute.toFixed(1)} jobs/min${where}${interrupted ? ' (interrupted: rerun to finish)' : ''}\n`);
}

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: withSoundValues(args), options: flags, allowPositionals: true });
  } catch (e) {
    return usageError((e as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) { process.stdout.write(USAGE); return 0; }
  if (v.status) {
    if (!v.queue) return usageError('--status needs --queue');
    return status(v.queue, v.name ?? DEFAULT_QUEUE_NAME, v.json, num('connect-timeout', v['connect-timeout'], { min: 0 }));
  }
  if (positionals.length !== 1) return usageError(positionals.length ? `one jobs file, got ${positionals.length}` : 'which jobs file?');
  if (!v.out && !(v.queue && v.detach)) return usageError('--out is required (the results file, also the journal of a rerun)');
  if (!v.queue && (!v.model || !v.mmproj)) return usageError('--model and --mmproj are required (or --queue to hand the jobs to workers)');
  if (v.queue) checkQueueUrl(v.queue);
  const parallel = num('parallel', v.parallel, { int: true, min: 1 }) ?? 1;
  const limits = limitsOf(v);
  const entries = parseJobs(await readJobs(positionals[0]!), jobDefaults(v), dirname(resolve(positionals[0]!)));

  const journal = v.out ? await Journal.open(v.out) : undefined;
  const ac = new AbortController();
  const offSignals = onStopSignal(() => ac.abort(new Error('interrupted')));
  try {
    if (!v.queue) {
      const reporter = reporterFor(v.json);
      let model: Model | undefined;
      const load = async () => (model = await loadModel({ model: v.model!, mmproj: v.mmproj!, ...threadValues(v), limits, signal: ac.signal }));
      try {
        const s = await runLocalBatch({ model: load, entries, journal: journal!, reporter, parallel, signal: ac.signal });
        summarize(s, v.out, v.json, s.interrupted);
        return s.interrupted ? 130 : 0;
      } finally {
        (model as Model | undefined)?.dispose();
      }
    }
    return await queued(entries, journal, v, ac.signal);
  } finally {
    offSignals();
    await journal?.close();
  }
}

async function status(url: string, name: string, json: boolean | undefined, timeoutS?: number): Promise<number> {
  const connection = connect(url);
  await ready(connection, url, (timeoutS ?? 15) * 1000);
  const queue = new Queue(name, { connection });
  queue.on('error', () => {});
  try {
    const s = await queueStatus(queue);
    if (json) process.stdout.write(`${JSON.stringify({ queue: name, ...s })}\n`);
    else process.stdout.write(`queue ${name}: waiting ${s.waiting}, delayed ${s.delayed}, active ${s.active}, done ${s.done}, failed ${s.failed}, workers ${s.workers ?? 'unknown'}\n`);
    return 0;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

async function queued(entries: JobEntry[], journal: Journal | undefined, v: Record<string, string | boolean | undefined>, signal: AbortSignal): Promise<number> {
  const url = v.queue as string;
  const name = (v.name as string | undefined) ?? DEFAULT_QUEUE_NAME;
  const enqueueOptions = { attempts: num('attempts', v.attempts as string | undefined, { int: true, min: 1 }), backoffMs: num('backoff-ms', v['backoff-ms'] as string | undefined, { min: 0 }) };
  const connection = connect(url);
  await ready(connection, url, (num('connect-timeout', v['connect-timeout'] as string | undefined, { min: 0 }) ?? 15) * 1000);
  const queue = new Queue(name, { connection });
  const reporter = v.detach ? undefined : reporterFor(v.json as boolean | undefined);
  queue.on('error', (e) => reporter?.note(`Redis: ${e.message}`));
  let events: QueueEvents | undefined;
  try {
    const specs = entries.flatMap((e) => (e.spec && !journal?.has(e.key) ? [e.spec] : []));
    const bad = entries.filter((e) => !e.spec && !journal?.has(e.key));
    // the clock starts before the jobs go in: workers may finish some before collecting starts
    reporter?.start(entries.length, entries.length - specs.length - bad.length);
    const { added, existing } = await enqueue(queue, specs, enqueueOptions);
    if (v.json) process.stdout.write(`${JSON.stringify({ event: 'enqueued', added, existing, invalid: bad.length })}\n`);
    else {
      const said = `enqueued ${added} new jobs on ${name} (${existing} already queued, ${bad.length} invalid lines)`;
      if (reporter instanceof BarReporter) reporter.note(said); // a line under a live bar would tear it
      else process.stderr.write(`vidlm batch: ${said}\n`);
    }
    if (v.detach) {
      for (const e of bad) {
        if (journal) await journal.append(entryErrorLine(e));
        else if (!v.json) process.stderr.write(`vidlm batch: ${e.error!.code}: ${e.error!.message}\n`);
        else process.stdout.write(`${JSON.stringify({ event: 'invalid', ...entryErrorLine(e) })}\n`);
      }
      return 0;
    }
    events = new QueueEvents(name, { connection });
    events.on('error', (e) => reporter!.note(`Redis: ${e.message}`));
    await events.waitUntilReady();
    for (const e of bad) {
      const line = entryErrorLine(e);
      await journal!.append(line);
      reporter!.result(line);
    }
    const { interrupted } = await collect({ queue, events, journal: journal!, reporter: reporter!, specs, enqueueOptions, signal, sweepMs: num('sweep-ms', v['sweep-ms'] as string | undefined, { min: 10 }) });
    summarize(reporter!.end(), v.out as string, v.json as boolean | undefined, interrupted);
    return interrupted ? 130 : 0;
  } finally {
    await events?.close();
    await queue.close();
    connection.disconnect();
  }
}
