/**
 * `vidlm batch` on one machine: N jobs at once on one loaded model (each ask has its own
 * context; the model's encoder is shared and taken in turns), results appended to the journal
 * as each finishes. Aborting stops taking jobs; jobs cut off by the abort write nothing, so a
 * rerun runs them again. A results file that cannot be written (ERR_OUTPUT) stops the run the
 * same way, and the call rejects with that error.
 */
import type { Model } from '../model.js';
import type { Stage } from '../pipeline/read.js';
import type { JobEntry } from './jobs.js';
import type { Journal } from './journal.js';
import type { BatchReporter, BatchSummary } from './reporter.js';
import { entryErrorLine, errorLine } from './result.js';
import { runJob } from './run-job.js';

export interface LocalBatchOptions {
  /** The model, asked for only when some job is left to run. */
  model: Model | (() => Promise<Model>);
  entries: JobEntry[];
  journal: Journal;
  reporter: BatchReporter;
  /** Jobs at once (contexts on the model). Default 1. */
  parallel?: number;
  signal?: AbortSignal;
}

export async function runLocalBatch(o: LocalBatchOptions): Promise<BatchSummary & { interrupted: boolean }> {
  const { journal, reporter, signal } = o;
  const pending = o.entries.filter((e) => !journal.has(e.key));
  const runnable = pending.filter((e) => e.spec);
  // loaded before the clock starts: the rate and ETA are of jobs, not of the model load
  const model = runnable.length === 0 ? undefined : typeof o.model === 'function' ? await o.model() : o.model;
  reporter.start(o.entries.length, o.entries.length - pending.length);
  for (const e of pending) {
    if (e.spec) continue;
    const line = entryErrorLine(e);
    await journal.append(line);
    reporter.result(line);
  }
  if (!model || signal?.aborted) return { ...reporter.end(), interrupted: signal?.aborted ?? false };
  let next = 0;
  let failed: unknown;
  const stop = new AbortController(); // the caller's abort, or a results file gone bad
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const lane = async () => {
    while (!stop.signal.aborted && next < runnable.length) {
      const spec = runnable[next++]!.spec!;
      const t0 = performance.now();
      let last: Stage | undefined;
      const onProgress = ({ stage }: { stage: Stage }) => { if (stage !== last) reporter.stage(spec.id, (last = stage)); };
      let line;
      try {
        line = await runJob(model, spec, { signal: stop.signal, onProgress });
      } catch (e) {
        if (stop.signal.aborted) return; // cut off: no line, the rerun does it
        line = errorLine(spec.id, e);
      }
      try {
        await journal.append(line);
      } catch (e) {
        failed ??= e;
        stop.abort(e);
        return;
      }
      reporter.result(line, performance.now() - t0);
    }
  };
  const lanes = Math.max(1, Math.min(o.parallel ?? 1, runnable.length || 1));
  try {
    await Promise.all(Array.from({ length: lanes }, lane));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failed !== undefined) {
    reporter.end();
    throw failed;
  }
  return { ...reporter.end(), interrupted: signal?.aborted ?? false };
}
