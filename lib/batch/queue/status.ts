/** `vidlm batch --queue URL --status`: how many jobs wait, run, are done or failed, and how many workers listen. */
import type { Queue } from 'bullmq';

export interface QueueStatus {
  waiting: number;
  /** Waiting out a retry's backoff. */
  delayed: number;
  active: number;
  done: number;
  failed: number;
  /** Workers connected now (null when the server does not allow CLIENT LIST). */
  workers: number | null;
}

export async function queueStatus(queue: Queue): Promise<QueueStatus> {
  const c = await queue.getJobCounts('waiting', 'prioritized', 'paused', 'delayed', 'active', 'completed', 'failed');
  let workers: number | null = null;
  try { workers = await queue.getWorkersCount(); } catch { /* managed Redis without CLIENT LIST */ }
  return {
    waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0),
    delayed: c.delayed ?? 0,
    active: c.active ?? 0,
    done: c.completed ?? 0,
    failed: c.failed ?? 0,
    workers,
  };
}
