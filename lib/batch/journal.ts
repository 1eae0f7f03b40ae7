/**
 * The results file is the batch's journal: each result is appended as one whole line in a
 * single write and flushed to disk (fdatasync) before the next, so a run killed at any moment
 * leaves whole lines only, plus at most a torn last line, which reopening cuts off. A rerun
 * reads the keys already there and skips those jobs. One run writes a results file at a time.
 * A write that fails (a full disk, an I/O error) is cut back to the last whole line and fails
 * every later append with the same ERR_OUTPUT, so the run stops with what was written kept.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { VidlmError } from '../errors.js';
import { lockJournal } from './journal-lock.js';
import { outputError } from './output-error.js';
import { keyOf, type ResultLine } from './result.js';

export class Journal {
  private tail: Promise<void> = Promise.resolve();
  private closed = false;
  /** The first write error: every later append fails with it. */
  private broken?: VidlmError;

  private constructor(private readonly fh: FileHandle, readonly done: Set<string>, readonly path: string, private readonly unlock: () => Promise<void>, private size: number) {}

  /** Opens (or creates) the results file, repairs a torn last line and reads which keys are done. */
  static async open(path: string): Promise<Journal> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'a+');
    } catch (e) {
      throw outputError(`cannot open the results file ${path}`, path, e);
    }
    // a device or a pipe would never end reading (/dev/full gives zeros forever) and cannot be cut back
    const kind = await fh.stat().catch((e) => e as Error);
    if (kind instanceof Error || !kind.isFile()) {
      await fh.close();
      throw new VidlmError('ERR_OUTPUT', `the results file ${path} must be a regular file${kind instanceof Error ? ` (${kind.message})` : ''}`, { path });
    }
    let unlock: () => Promise<void>;
    try {
      unlock = await lockJournal(path);
    } catch (e) {
      await fh.close();
      throw e;
    }
    try {
      const text = (await fh.readFile()).toString('utf8');
      const end = text.lastIndexOf('\n') + 1;
      const size = Buffer.byteLength(text.slice(0, end));
      if (size < Buffer.byteLength(text)) await fh.truncate(size).catch((e) => { throw outputError(`cannot repair the results file ${path}`, path, e); }); // a line torn by a kill
      const done = new Set<string>();
      for (const raw of text.slice(0, end).split('\n')) {
        if (raw.trim() === '') continue;
        let key: string | null = null;
        try { key = keyOf(JSON.parse(raw)); } catch { /* not ours: left as it is */ }
        if (key !== null) done.add(key);
      }
      return new Journal(fh, done, path, unlock, size);
    } catch (e) {
      await fh.close();
      await unlock();
      throw e;
    }
  }

  has(key: string): boolean {
    return this.done.has(key);
  }

  /** Appends one result; resolves once it is on disk. Lines are written in the order asked. */
  append(result: ResultLine): Promise<void> {
    const key = keyOf(result);
    if (key === null) throw new VidlmError('ERR_INVALID_ARG', 'a result needs an id or a line number');
    if (this.closed) return Promise.reject(new VidlmError('ERR_DISPOSED', 'the results file is closed'));
    if (this.broken) return Promise.reject(this.broken);
    if (this.done.has(key)) return this.tail; // exactly once, whoever reports it again
    this.done.add(key);
    const bytes = Buffer.from(`${JSON.stringify(result)}\n`);
    const write = async () => {
      if (this.broken) throw this.broken;
      try {
        let off = 0;
        while (off < bytes.length) off += (await this.fh.write(bytes, off, bytes.length - off)).bytesWritten;
        await this.fh.datasync();
        this.size += bytes.length;
      } catch (e) {
        this.done.delete(key); // not written: a rerun runs it
        this.broken = outputError(`cannot write the results file ${this.path}`, this.path, e);
        await this.fh.truncate(this.size).catch(() => {}); // no half line left behind
        throw this.broken;
      }
    };
    this.tail = this.tail.then(write, write);
    return this.tail;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail.catch(() => {});
    await this.fh.close();
    await this.unlock();
  }
}
