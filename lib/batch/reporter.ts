/**
 * What a batch shows while it runs: a progress bar (cli-progress) with ETA, jobs per minute and
 * failures on a terminal, JSON Lines events with --json, or one summary line otherwise.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { Stage } from '../pipeline/read.js';
import type { ResultLine } from './result.js';

export interface BatchSummary {
  total: number;
  skipped: number;
  done: number;
  failed: number;
  elapsedMs: number;
  jobsPerMinute: number;
}

export interface BatchReporter {
  /** `total` jobs in the file, `skipped` of them already in the results file. */
  start(total: number, skipped: number): void;
  stage(id: string, stage: Stage): void;
  result(r: ResultLine, ms?: number): void;
  /** A note that is not a result (Redis reconnecting, a worker's job retried). */
  note(message: string): void;
  end(): BatchSummary;
}

abstract class Counting implements BatchReporter {
  protected total = 0;
  protected skipped = 0;
  protected done = 0;
  protected failed = 0;
  protected t0 = performance.now();

  start(total: number, skipped: number): void {
    this.total = total;
    this.skipped = skipped;
    this.t0 = performance.now();
  }

  stage(_id: string, _stage: Stage): void {}

  result(r: ResultLine, _ms?: number): void {
    this.done++;
    if (r.error) this.failed++;
  }

  note(_message: string): void {}

  private lastNote = '';
  private lastNoteAt = 0;

  /** False for a note said less than 10 s ago (a Redis outage repeats its error every retry). */
  protected fresh(message: string): boolean {
    if (message === this.lastNote && performance.now() - this.lastNoteAt < 10_000) return false;
    this.lastNote = message;
    this.lastNoteAt = performance.now();
    return true;
  }

  protected rate(): number {
    const min = (performance.now() - this.t0) / 60_000;
    return min > 0 ? this.done / min : 0;
  }

  end(): BatchSummary {
    return { total: this.total, skipped: this.skipped, done: this.done, failed: this.failed, elapsedMs: Math.round(performance.now() - this.t0), jobsPerMinute: Number(this.rate().toFixed(2)) };
  }
}

/** JSON Lines on `out`: start, stage, result, note and end events. */
export class JsonReporter extends Counting {
  constructor(private readonly out: NodeJS.WritableStream = process.stdout) { super(); }
  private emit(e: object) { this.out.write(`${JSON.stringify(e)}\n`); }

  override start(total: number, skipped: number): void {
    super.start(total, skipped);
    this.emit({ event: 'start', total, skipped });
  }

  override stage(id: string, stage: Stage): void {
    this.emit({ event: 'stage', id, stage });
  }

  override result(r: ResultLine, ms?: number): void {
    super.result(r, ms);
    this.emit({ event: 'result', id: r.id, ...(r.line !== undefined ? { line: r.line } : {}), ok: !r.error, ...(r.error ? { code: r.error.code } : {}), ...(ms !== undefined ? { ms: Math.round(ms) } : {}), done: this.done, failed: this.failed });
  }

  override note(message: string): void {
    if (this.fresh(message)) this.emit({ event: 'note', message });
  }

  override end(): BatchSummary {
    const s = super.end();
    this.emit({ event: 'end', ...s });
    return s;
  }
}

/** A progress bar on a terminal: done/total, ETA, jobs per minute and failures. */
export class BarReporter extends Counting {
  private readonly bar: SingleBar;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    super();
    this.bar = new SingleBar({
      stream,
      format: 'batch {bar} {value}/{total} | ETA {eta_formatted} | {rate} jobs/min | {failed} failed{note}',
      barsize: 24,
      hideCursor: true,
      etaBuffer: 20,
      fps: 5,
    }, Presets.shades_classic);
  }

  override start(total: number, skipped: number): void {
    super.start(total, skipped);
    this.bar.start(total - skipped, 0, { rate: '0.0', failed: 0, note: skipped ? ` | ${skipped} already done` : '' });
  }

  override result(r: ResultLine, ms?: number): void {
    super.result(r, ms);
    this.bar.update(this.done, { rate: this.rate().toFixed(1), failed: this.failed });
  }

  override note(message: string): void {
    if (this.fresh(message)) this.bar.update({ note: ` | ${message}` });
  }

  override end(): BatchSummary {
    this.bar.update({ rate: this.rate().toFixed(1), failed: this.failed });
    this.bar.stop();
    return super.end();
  }
}

/** No terminal and no --json: the summary line only (printed by the command). */
export class QuietReporter extends Counting {}
