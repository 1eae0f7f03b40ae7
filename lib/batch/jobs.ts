/**
 * The lines of a jobs.jsonl file: `{ id, video, task: 'ask'|'describe'|'localize', question?, options? }`.
 * Each line is checked on its own, so one bad line becomes one error result and the batch goes on.
 */
import { checkReduce } from '../reduce/option.js';
import { isAbsolute, resolve } from 'node:path';
import { VidlmError } from '../errors.js';
import type { VideoQueryOptions } from '../api/query.js';
import { isSubtitleFile } from '../video/subtitles.js';
import { idKey, lineKey } from './keys.js';

export type BatchTask = 'ask' | 'describe' | 'localize';
export const TASKS: readonly BatchTask[] = ['ask', 'describe', 'localize'];

/** The options a job line may carry: the JSON-valued options of ask/describe/localize. */
export type JobOptions = Omit<VideoQueryOptions, 'model' | 'signal' | 'onProgress' | 'onToken' | 'sequences'> & { constrain?: boolean };

const OPTION_KEYS = new Set([
  'strategy', 'frames', 'fps', 'fpsRule', 'segment', 'timeTokens', 'timeFormat', 'litaSpelling', 'preamble', 'system', 'contextSize',
  'encodeBatchSize', 'fit', 'maxTokens', 'temperature', 'topK', 'topP', 'minP', 'repeatPenalty', 'repeatLastN', 'seed',
  'stop', 'grammar', 'jsonSchema', 'constrain', 'audio', 'audioWindow', 'audioLength', 'subtitles', 'reduce',
]);

export interface JobSpec {
  id: string;
  video: string;
  task: BatchTask;
  question?: string;
  options: JobOptions;
}

/** One line of the jobs file: a job to run, or why it cannot run. */
export interface JobEntry {
  /** 1-based line number in the jobs file. */
  line: number;
  /** What the results journal knows this line by: `id:ID`, or `line:N` when it has no usable id (see idKey). */
  key: string;
  id: string | null;
  spec?: JobSpec;
  error?: VidlmError;
}

const bad = (message: string, details?: Record<string, unknown>) => new VidlmError('ERR_INVALID_ARG', message, details);

/** The id of a parsed line as text, or null when it has no usable one. */
export function idOf(v: unknown): string | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const id = (v as { id?: unknown }).id;
  if (typeof id === 'string' && id !== '') return id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return null;
}

/** Checks one parsed line; `defaults` are the command's options, which the line's own override. */
export function checkJob(v: unknown, defaults: JobOptions = {}): JobSpec {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad('a job must be a JSON object');
  const o = v as Record<string, unknown>;
  const id = idOf(o);
  if (id === null) throw bad('"id" must be a non-empty string or a number', { field: 'id' });
  if (typeof o.video !== 'string' || o.video === '') throw bad('"video" must be a path or URL every worker can read', { field: 'video' });
  if (typeof o.task !== 'string' || !TASKS.includes(o.task as BatchTask)) {
    throw bad(`"task" must be one of ${TASKS.join(', ')} (got ${JSON.stringify(o.task)})`, { field: 'task' });
  }
  const task = o.task as BatchTask;
  if (o.question !== undefined && (typeof o.question !== 'string' || o.question.trim() === '')) throw bad('"question" must be a non-empty string', { field: 'question' });
  if (task !== 'describe' && o.question === undefined) throw bad(`a ${task} job needs a "question"`, { field: 'question' });
  const options = o.options ?? {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw bad('"options" must be an object', { field: 'options' });
  for (const k of Object.keys(options)) if (!OPTION_KEYS.has(k)) throw bad(`unknown option "${k}"`, { field: 'options', option: k });
  for (const k of Object.keys(o)) if (!['id', 'video', 'task', 'question', 'options'].includes(k)) throw bad(`unknown field "${k}"`, { field: k });
  try { checkReduce((options as JobOptions).reduce); } catch (e) { throw bad((e as Error).message, { field: 'options', option: 'reduce' }); }
  return { id, video: o.video, task, ...(o.question === undefined ? {} : { question: o.question as string }), options: { ...defaults, ...(options as JobOptions) } };
}

/**
 * A relative video path is taken from the jobs file's folder (as FFmpeg's concat lists do), and
 * made absolute so that a worker elsewhere reads the same path on its mount; URLs stay as they are.
 */
export function resolveVideo(video: string, base: string | undefined): string {
  if (base === undefined || isAbsolute(video) || /^[a-z][a-z0-9+.-]*:/i.test(video)) return video;
  return resolve(base, video);
}

/** A subtitle file named by a job (`subtitles: 'subs/a.srt'`) is resolved like its video; languages and indexes stay as they are. */
export function resolveOptions(options: JobOptions, base: string | undefined): JobOptions {
  const s = options.subtitles;
  if (typeof s !== 'string' || !isSubtitleFile(s)) return options;
  return { ...options, subtitles: resolveVideo(s, base) };
}

/**
 * Every non-blank line of a jobs file, in order. Duplicate ids: the first runs, later ones are
 * errors. `base`: the jobs file's folder, for relative video and subtitle file paths.
 */
export function parseJobs(text: string, defaults: JobOptions = {}, base?: string): JobEntry[] {
  const out: JobEntry[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      out.push({ line, key: lineKey(line), id: null, error: bad(`line ${line}: not JSON (${(e as Error).message})`, { line }) });
      return;
    }
    const id = idOf(value);
    if (id !== null && seen.has(id)) {
      out.push({ line, key: lineKey(line), id: null, error: bad(`line ${line}: duplicate id ${JSON.stringify(id)}`, { line, id }) });
      return;
    }
    if (id !== null) seen.add(id);
    const key = id === null ? lineKey(line) : idKey(id);
    try {
      const spec = checkJob(value, defaults);
      out.push({ line, key, id, spec: { ...spec, video: resolveVideo(spec.video, base), options: resolveOptions(spec.options, base) } });
    } catch (e) {
      const err = e as VidlmError;
      out.push({ line, key, id, error: new VidlmError(err.code, `line ${line}: ${err.message}`, { line, ...err.details }) });
    }
  });
  return out;
}
