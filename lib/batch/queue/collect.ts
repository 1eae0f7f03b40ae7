/**
 * Collecting a queued batch into the results journal. Completion events (QueueEvents) write
 * results as they come; a sweep over the ids still pending, at the start and every few
 * seconds, catches what no event told (results finished before the collector started, events
 * missed while Redis was away). Each id is written once whoever reports it. A results file that
 * cannot be written (ERR_OUTPUT) ends collecting with that error; the jobs' results stay in Redis.
 */
import type { Queue, QueueEvents } from 'bullmq';
import type { Stage } from '../../pipeline/read.js';
import type { JobSpec } from '../jobs.js';
import type { Journal } from '../journal.js';
import type { BatchReporter } from '../reporter.js';
import { idKey } from '../keys.js';
import type { ResultLine } from '../result.js';
import { failedLine } from './failures.js';
import { jobIdOf } from './ids.js';
import { enqueue, type EnqueueOptions } from './producer.js';

export interface CollectOptions {
  queue: Queue;
  events: QueueEvents;
  journal: Journal;
  reporter: BatchReporter;
  /** The jobs to wait for (those already in the journal are skipped). */
  specs: JobSpec[];
  /** How often pending ids are checked without an event, in ms. Default 2000 (more for big batches). */
  sweepMs?: number;
  /** Used to enqueue again a job that is no longer in Redis (a Redis that lost its data). */
  enqueueOptions?: EnqueueOptions;
  signal?: AbortSignal;
}

export async function collect(o: CollectOptions): Promise<{ interrupted: boolean }> {
  const { queue, events, journal, reporter, signal } = o;
  const pending = new Map<string, JobSpec>();
  for (const s of o.specs) if (!journal.has(idKey(s.id))) pending.set(jobIdOf(s.id), s);
  const stages = new Map<string, Stage>();
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => { finished = resolve; });
  const check = () => { if (pending.size === 0) finished(); };
  let failed: unknown;

  const settle = async (jobId: string): Promise<void> => {
    const spec = pending.get(jobId);
    if (!spec) return;
    // the state first: a job read before it finished would lack its return value
    const state = await queue.getJobState(jobId);
    if (state === 'unknown') {
      await enqueue(queue, [spec], o.enqueueOptions);
      reporter.note(`re-enqueued ${spec.id}: it was no longer in Redis`);
      return;
    }
    if (state !== 'completed' && state !== 'failed') return;
    const job = await queue.getJob(jobId);
    if (!job) return; // removed meanwhile: the next sweep re-enqueues it
    let line: ResultLine;
    if (state === 'completed') {
      if (job.returnvalue === null || typeof job.returnvalue !== 'object') return;
      line = { ...(job.returnvalue as ResultLine), id: spec.id };
    } else {
      line = failedLine(spec.id, job.failedReason);
    }
    if (!pending.delete(jobId)) return; // the event and the sweep both saw it
    try {
      await journal.append(line);
    } catch (e) {
      failed ??= e;
      finished();
      return;
    }
    reporter.result(line, job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : undefined);
    check();
  };
  const settleQuietly = (jobId: string) => settle(jobId).catch((e: Error) => reporter.note(`Redis: ${e.message}`));

  const onDone = ({ jobId }: { jobId: string }) => { void settleQuietly(jobId); };
  const onProgress = ({ jobId, data }: { jobId: string; data: unknown }) => {
    const spec = pending.get(jobId);
    const stage = (data as { stage?: Stage } | null)?.stage;
    if (spec && stage && stages.get(jobId) !== stage) { stages.set(jobId, stage); reporter.stage(spec.id, stage); }
  };
  events.on('completed', onDone);
  events.on('failed', onDone);
  events.on('progress', onProgress);

  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const ids = [...pending.keys()];
      for (let i = 0; i < ids.length && !signal?.aborted && failed === undefined; i += 100) await Promise.all(ids.slice(i, i + 100).map(settleQuietly));
    } finally {
      sweeping = false;
    }
  };
  const every = Math.max(o.sweepMs ?? 2000, pending.size); // a sweep costs two Redis calls per pending job
  const timer = setInterval(() => { void sweep(); }, every);
  const onAbort = () => finished();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    check();
    void sweep();
    await allDone;
  } finally {
    clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
    events.off('completed', onDone);
    events.off('failed', onDone);
    events.off('progress', onProgress);
  }
  if (failed !== undefined) throw failed;
  return { interrupted: pending.size > 0 };
}
