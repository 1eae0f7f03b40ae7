/**
 * `vidlm worker`: takes jobs from the queue and runs them on one loaded model, `concurrency`
 * at a time. BullMQ holds a lock on each running job and renews it while the process lives;
 * a worker that dies stops renewing, and another worker's stalled-job check puts the job back
 * (up to `attempts`). Progress goes to the job as `{ stage, fraction }`.
 */
import { Worker, WaitingError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Model } from '../../model.js';
import type { Stage } from '../../pipeline/read.js';
import { checkJob } from '../jobs.js';
import type { ResultLine } from '../result.js';
import { runJob } from '../run-job.js';
import { jobFailure } from './failures.js';
import { idOfJobId } from './ids.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export interface WorkerOptions {
  connection: Redis;
  name: string;
  model: Model;
  /** Jobs at once on this worker (contexts on the model). Default 1. */
  concurrency?: number;
  /** How long a job's lock lasts without renewal: how soon a dead worker's job is taken back. Default 30000. */
  lockMs?: number;
  /** How often this worker looks for stalled jobs. Default 30000. */
  stalledMs?: number;
  /** Least time between two progress updates of a job (each is a Redis call). Default 500. */
  progressMs?: number;
  onEvent?: (e: WorkerEvent) => void;
}

export type WorkerEvent =
  | { event: 'active'; id: string; attempt: number }
  | { event: 'completed'; id: string; ms: number }
  | { event: 'failed'; id: string; reason: string; retry: boolean }
  | { event: 'released'; id: string }
  | { event: 'error'; message: string };

export interface BatchWorker {
  worker: Worker;
  /**
   * Stops taking jobs and lets the running ones finish; after `timeoutMs` it aborts them and puts
   * them back in the queue for another worker (without using up an attempt).
   */
  stop(timeoutMs: number): Promise<void>;
}

export function startWorker(o: WorkerOptions): BatchWorker {
  const running = new Map<string, AbortController>();
  let releasing = false;
  const emit = (e: WorkerEvent) => o.onEvent?.(e);

  const processJob = async (job: Job, token?: string): Promise<ResultLine> => {
    const id = idOfJobId(job.id!);
    const ac = new AbortController();
    running.set(job.id!, ac);
    emit({ event: 'active', id, attempt: job.attemptsMade + 1 });
    let last: Stage | undefined;
    let lastAt = 0;
    const onProgress = ({ stage, fraction }: { stage: Stage; fraction: number }) => {
      const now = Date.now();
      if (stage === last && now - lastAt < (o.progressMs ?? 500) && fraction < 1) return;
      last = stage;
      lastAt = now;
      job.updateProgress({ stage, fraction }).catch(() => {}); // progress is best effort (Redis may be away)
    };
    try {
      const spec = checkJob(job.data);
      return await runJob(o.model, spec, { signal: ac.signal, onProgress });
    } catch (e) {
      if (releasing && ac.signal.aborted) {
        await job.moveToWait(token);
        emit({ event: 'released', id });
        throw new WaitingError();
      }
      throw jobFailure(e);
    } finally {
      running.delete(job.id!);
    }
  };

  const worker = new Worker(o.name, processJob, {
    connection: o.connection,
    concurrency: o.concurrency ?? 1,
    lockDuration: o.lockMs ?? 30_000,
    stalledInterval: o.stalledMs ?? 30_000,
    maxStalledCount: 1,
  });
  worker.on('completed', (job) => emit({ event: 'completed', id: idOfJobId(job.id!), ms: (job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now()) }));
  worker.on('failed', (job, err) => {
    if (!job || err instanceof WaitingError) return;
    const retry = err.name !== 'UnrecoverableError' && job.attemptsMade < (job.opts.attempts ?? 1);
    emit({ event: 'failed', id: idOfJobId(job.id!), reason: err.message, retry });
  });
  let lastError = '', lastErrorAt = 0;
  worker.on('error', (e) => {
    // a Redis outage repeats the same error every retry: say it every 10 s
    if (e.message === lastError && Date.now() - lastErrorAt < 10_000) return;
    lastError = e.message;
    lastErrorAt = Date.now();
    emit({ event: 'error', message: e.message });
  });

  return {
    worker,
    async stop(timeoutMs) {
      const timer = setTimeout(() => {
        releasing = true;
        for (const ac of running.values()) ac.abort(new Error('the worker is stopping'));
      }, timeoutMs);
      // close() waits on Redis; with Redis away it would wait for ever: the jobs' locks then
      // lapse and other workers take them back (stalled-job check)
      const gaveUp = await Promise.race([worker.close().then(() => false), sleep(timeoutMs + 5000).then(() => true)]);
      clearTimeout(timer);
      if (gaveUp) await Promise.race([worker.close(true), sleep(2000)]);
    },
  };
}
