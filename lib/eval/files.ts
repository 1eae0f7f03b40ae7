/**
 * Readers for `vidlm eval`: predictions as JSON Lines (one object per line, as a generation
 * loop appends them), ground truth as one JSON file. Formats are documented in docs/methods.md.
 */
import { readFile } from 'node:fs/promises';
import { VidlmError } from '../errors.js';
import type { TimeTokenMode } from '../time/encode.js';
import { parseStartEnd } from '../time/parse.js';
import type { Segment } from './iou.js';
import type { LocalizeTruth } from './localize.js';
import { truthLetter, type QaTruth } from './qa.js';

type Obj = Record<string, unknown>;

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new VidlmError('ERR_FILE_NOT_FOUND', `no such file: ${path}`, { path });
    throw new VidlmError('ERR_INVALID_ARG', `cannot read ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
}

function bad(where: string, message: string): VidlmError {
  return new VidlmError('ERR_INVALID_ARG', `${where}: ${message}`);
}

/** Objects of a JSON Lines file; blank lines skipped. */
export async function readJsonl(path: string): Promise<Array<{ line: number; value: Obj }>> {
  const out: Array<{ line: number; value: Obj }> = [];
  (await readText(path)).split(/\r?\n/).forEach((text, i) => {
    if (text.trim() === '') return;
    let value: unknown;
    try { value = JSON.parse(text); } catch (e) { throw bad(`${path}:${i + 1}`, `not JSON (${(e as Error).message})`); }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(`${path}:${i + 1}`, 'each line must be a JSON object');
    out.push({ line: i + 1, value: value as Obj });
  });
  return out;
}

/** Ground truth: an array of objects with `id`, or an object mapping id → object. */
export async function readTruthItems(path: string): Promise<Array<{ where: string; value: Obj }>> {
  let data: unknown;
  try { data = JSON.parse(await readText(path)); } catch (e) {
    if (e instanceof VidlmError) throw e;
    throw bad(path, `not JSON (${(e as Error).message})`);
  }
  const entries: Array<[string | undefined, unknown, string]> = Array.isArray(data)
    ? data.map((v, i) => [undefined, v, `${path}[${i}]`])
    : data !== null && typeof data === 'object'
      ? Object.entries(data).map(([k, v]) => [k, v, `${path}[${JSON.stringify(k)}]`])
      : [];
  if (entries.length === 0) throw bad(path, 'expected a non-empty array of items or an object mapping id to item');
  return entries.map(([key, v, where]) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(where, 'each item must be an object');
    const value = { ...(v as Obj) };
    if (value.id === undefined && key !== undefined) value.id = key;
    return { where, value };
  });
}

function idOf(where: string, v: Obj): string {
  if (typeof v.id === 'string' && v.id !== '') return v.id;
  if (typeof v.id === 'number' && Number.isFinite(v.id)) return String(v.id);
  throw bad(where, '"id" must be a non-empty string or a number');
}

function num(where: string, v: Obj, key: string): number | undefined {
  const x = v[key];
  if (x === undefined) return undefined;
  if (typeof x !== 'number' || !Number.isFinite(x)) throw bad(where, `"${key}" must be a finite number`);
  return x;
}

function segmentOf(where: string, v: Obj): Segment | undefined {
  const start = num(where, v, 'start'), end = num(where, v, 'end');
  if (start === undefined && end === undefined) return undefined;
  if (start === undefined || end === undefined) throw bad(where, 'give both "start" and "end"');
  return [Math.min(start, end), Math.max(start, end)];
}

/** A `vidlm batch` result line read as a prediction: `text` is the answer, a null start/end none. */
function batchLine(v: Obj): Obj {
  const out = { ...v };
  if (out.answer === undefined && typeof out.text === 'string') out.answer = out.text;
  if (out.start === null && out.end === null) { delete out.start; delete out.end; }
  return out;
}

function unique<T extends { id: string }>(items: T[], path: string): T[] {
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.id)) throw bad(path, `duplicate id ${JSON.stringify(it.id)}`);
    seen.add(it.id);
  }
  return items;
}

export interface LocalizeFiles {
  truth: LocalizeTruth[];
  /** id → predicted segment, or null when the answer could not be scored. */
  preds: Map<string, Segment | null>;
}

/**
 * Ground truth items: `{ id, video?, duration?, start, end }` or `{ id, video?, duration, answer }`
 * (answer text in seconds, parsed strictly like LITA parses its references). Prediction lines:
 * `{ id, start, end }` or `{ id, answer, duration? }`; an answer with fewer than two times
 * becomes [0, duration] as in LITA (no duration known: unscored, IoU 0).
 */
export async function readLocalizeFiles(predPath: string, truthPath: string, mode: TimeTokenMode = 'text'): Promise<LocalizeFiles> {
  const durations = new Map<string, number>();
  const truth = unique((await readTruthItems(truthPath)).map(({ where, value }) => {
    const id = idOf(where, value);
    const duration = num(where, value, 'duration');
    if (duration !== undefined) {
      if (duration <= 0) throw bad(where, '"duration" must be positive');
      durations.set(id, duration);
    }
    const video = value.video === undefined ? id : String(value.video);
    let segment = segmentOf(where, value);
    if (!segment) {
      if (typeof value.answer !== 'string') throw bad(where, 'give "start" and "end" or an "answer" text');
      // References hold seconds (LITA: "<12.5> <20.0>"), whatever the predictions' time mode.
      segment = parseStartEnd(value.answer, { strict: true, ...(duration === undefined ? {} : { duration }) });
    }
    return { id, video, segment };
  }), truthPath);

  const preds = new Map<string, Segment | null>();
  for (const { line, value: raw } of await readJsonl(predPath)) {
    if (raw.error !== undefined) continue; // a failed job of `vidlm batch`: missing, IoU 0
    const value = batchLine(raw);
    const where = `${predPath}:${line}`;
    const id = idOf(where, value);
    if (preds.has(id)) throw bad(where, `duplicate id ${JSON.stringify(id)}`);
    let segment: Segment | null = segmentOf(where, value) ?? null;
    if (!segment) {
      if (typeof value.answer !== 'string') throw bad(where, 'give "start" and "end" or an "answer" text');
      const own = num(where, value, 'duration');
      if (own !== undefined && own <= 0) throw bad(where, '"duration" must be positive');
      const duration = own ?? durations.get(id);
      if (duration === undefined && mode === 'lita') throw bad(where, 'lita time tokens need a "duration" here or in the ground truth');
      try {
        segment = parseStartEnd(value.answer, { mode, ...(duration === undefined ? {} : { duration }) });
      } catch (e) {
        if (!(e instanceof VidlmError)) throw e;
        segment = null; // fewer than two times and no duration to fall back on
      }
    }
    preds.set(id, segment);
  }
  return { truth, preds };
}

export interface QaFiles {
  truth: QaTruth[];
  answers: Map<string, string>;
}

/**
 * Ground truth items: `{ id, answer: "B" | "(B) text", options?: string[] | number, category? }`
 * (4 options when not given). Prediction lines: `{ id, answer: "model output" }`.
 */
export async function readQaFiles(predPath: string, truthPath: string): Promise<QaFiles> {
  const truth = unique((await readTruthItems(truthPath)).map(({ where, value }) => {
    const id = idOf(where, value);
    if (typeof value.answer !== 'string') throw bad(where, '"answer" must be the correct option, e.g. "B" or "(B) the text"');
    const opts = value.options;
    const options = opts === undefined ? 4 : Array.isArray(opts) ? opts.length : opts;
    if (typeof options !== 'number' || !Number.isSafeInteger(options) || options < 1 || options > 26) {
      throw bad(where, '"options" must be the list of options or their count (1-26)');
    }
    let letter: string;
    try { letter = truthLetter(value.answer); } catch (e) { throw bad(where, (e as Error).message); }
    if (letter.charCodeAt(0) - 64 > options) throw bad(where, `answer ${letter} is beyond the ${options} options`);
    const item: QaTruth = { id, letter, options };
    if (value.category !== undefined) item.category = String(value.category);
    return item;
  }), truthPath);

  const answers = new Map<string, string>();
  for (const { line, value: raw } of await readJsonl(predPath)) {
    if (raw.error !== undefined) continue; // a failed job of `vidlm batch`: missing, wrong
    const value = batchLine(raw);
    const where = `${predPath}:${line}`;
    const id = idOf(where, value);
    if (answers.has(id)) throw bad(where, `duplicate id ${JSON.stringify(id)}`);
    if (typeof value.answer !== 'string') throw bad(where, '"answer" must be the model\'s output text');
    answers.set(id, value.answer);
  }
  return { truth, answers };
}
