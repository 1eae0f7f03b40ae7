/**
 * Enqueueing a jobs file: each valid line becomes a BullMQ job whose id comes from the line's id,
 * so a second enqueue of the same file (or of a file that grew) adds only the new ids. Finished
 * jobs are kept in Redis (that is what remembers the ids) until the queue is cleaned.
 */
import type { Queue } from 'bullmq';
import type { JobSpec } from '../jobs.js';
import { jobIdOf } from './ids.js';

export interface EnqueueOptions {
  /** Attempts per job before it fails for good (retryable failures and stalls). Default 3. */
  attempts?: number;
  /** First retry delay in ms, doubled each attempt. Default 1000. */
  backoffMs?: number;
}

export async function enqueue(queue: Queue, specs: JobSpec[], o: EnqueueOptions = {}): Promise<{ added: number; existing: number }> {
  let added = 0;
  for (let i = 0; i < specs.length; i += 500) {
    const chunk = specs.slice(i, i + 500);
    // counted before adding, for the report only: adding is idempotent by itself
    const states = await Promise.all(chunk.map((s) => queue.getJobState(jobIdOf(s.id))));
    await queue.addBulk(chunk.map((spec) => ({
      name: spec.task,
      data: spec,
      opts: {
        jobId: jobIdOf(spec.id),
        attempts: o.attempts ?? 3,
        backoff: { type: 'exponential', delay: o.backoffMs ?? 1000 },
        removeOnComplete: false,
        removeOnFail: false,
      },
    })));
    added += states.filter((st) => st === 'unknown').length;
  }
  return { added, existing: specs.length - added };
}
