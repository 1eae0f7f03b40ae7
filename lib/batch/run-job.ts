/** Runs one checked job on a loaded model through the public API and shapes its result line. */
import { ask, describe, localize } from '../api/query.js';
import type { Model } from '../model.js';
import type { ProgressListener } from '../pipeline/read.js';
import { needsDownload, withDownload } from './fetch-video.js';
import type { JobSpec } from './jobs.js';
import type { ResultLine } from './result.js';

export interface RunJobOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export async function runJob(model: Model, job: JobSpec, o: RunJobOptions = {}): Promise<ResultLine> {
  if (needsDownload(job.video)) return withDownload(job.video, o.signal, (path) => runOn(model, { ...job, video: path }, o));
  return runOn(model, job, o);
}

async function runOn(model: Model, job: JobSpec, o: RunJobOptions): Promise<ResultLine> {
  const opts = { ...job.options, model, signal: o.signal, onProgress: o.onProgress };
  if (job.task === 'localize') {
    const r = await localize(job.video, job.question!, opts);
    return { id: job.id, text: r.text, start: r.start, end: r.end, tokens: r.tokens, timings: r.timings, ...(r.warning ? { warning: r.warning } : {}) };
  }
  const r = job.task === 'ask' ? await ask(job.video, job.question!, opts) : await describe(job.video, { ...opts, prompt: job.question });
  return { id: job.id, text: r.text, tokens: r.tokens, timings: r.timings, ...(r.warning ? { warning: r.warning } : {}) };
}
