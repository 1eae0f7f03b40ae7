/**
 * A line of results.jsonl: `{ id, text, start?, end?, tokens, timings }` for a job that ran,
 * `{ id, error: { code, message } }` for one that failed (`id` null and `line` set for a line of
 * the jobs file that has no usable id). `vidlm eval` reads these lines directly.
 */
import type { AskResult } from '../api/query.js';
import { isVidlmError } from '../errors.js';
import type { JobEntry } from './jobs.js';
import { idKey, lineKey } from './keys.js';

export interface ResultLine {
  id: string | null;
  /** The jobs-file line, for lines without an id. */
  line?: number;
  text?: string;
  start?: number | null;
  end?: number | null;
  tokens?: AskResult['tokens'];
  timings?: AskResult['timings'];
  /** What the job ran without (no audio track, a subtitle track that could not be read…), as ask() reports it. */
  warning?: string;
  error?: { code: string; message: string };
}

/** The stable code of an error: a VidlmError's, or ERR_JOB for anything else. */
export function codeOf(e: unknown): string {
  if (isVidlmError(e)) return e.code;
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' && /^ERR_[A-Z0-9_]+$/.test(c) ? c : 'ERR_JOB';
}

export function errorLine(id: string | null, e: unknown, line?: number): ResultLine {
  const message = e instanceof Error ? e.message : String(e);
  return { id, ...(id === null && line !== undefined ? { line } : {}), error: { code: codeOf(e), message } };
}

export function entryErrorLine(entry: JobEntry): ResultLine {
  return errorLine(entry.id, entry.error, entry.line);
}

/** The journal key of a result line (see JobEntry.key). */
export function keyOf(r: { id?: unknown; line?: unknown }): string | null {
  if (typeof r.id === 'string' && r.id !== '') return idKey(r.id);
  if (typeof r.id === 'number') return idKey(String(r.id));
  if (r.id === null && typeof r.line === 'number') return lineKey(r.line);
  return null;
}
