/**
 * One writer per results file: two runs appending to the same journal would each run the jobs
 * the other is running. The lock is `<file>.lock` holding the writer's pid, and it appears with
 * its pid already in it: the pid is written to a file of our own, which link(2) then puts at the
 * lock's name, failing if one is there. (A lock made empty and filled after would read as stale
 * to a racer between the two steps, and both would take it.) A lock whose process is gone (a
 * killed run) is taken over by renaming it aside and checking that what moved is the very file
 * judged stale (same inode); a live lock moved by a racer is put back. The pid check holds on
 * one machine only: on a shared mount, give each machine its own results file.
 */
import { randomBytes } from 'node:crypto';
import { link, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { VidlmError } from '../errors.js';
import { outputError } from './output-error.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** Puts a file holding our pid at `lock` in one step; false when a lock is already there. */
async function create(lock: string): Promise<boolean> {
  const own = `${lock}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(own, String(process.pid), { flag: 'wx' });
  try {
    await link(own, lock);
    return true;
  } catch (e) {
    if (errno(e) === 'EEXIST') return false;
    if (errno(e) !== 'EPERM' && errno(e) !== 'ENOTSUP' && errno(e) !== 'ENOSYS') throw e;
    // a filesystem without hard links: create-exclusive, then the pid (the racy way, but the only one)
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return true;
    } catch (e2) {
      if (errno(e2) === 'EEXIST') return false;
      throw e2;
    }
  } finally {
    await rm(own, { force: true });
  }
}

/** Moves a dead writer's lock out of the way, if it is still the one judged stale (inode `ino`). */
async function removeStale(lock: string, ino: number): Promise<void> {
  const aside = `${lock}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(lock, aside);
  } catch (e) {
    if (errno(e) === 'ENOENT') return; // another run took it away first
    throw e;
  }
  if ((await stat(aside)).ino !== ino) {
    // a racer's fresh lock, taken between our look and the rename: give it back
    await link(aside, lock).catch(() => {});
  }
  await rm(aside, { force: true });
}

/** Takes the lock of `path`; resolves with its release. */
export async function lockJournal(path: string): Promise<() => Promise<void>> {
  const lock = `${path}.lock`;
  for (let tries = 0; tries < 5; tries++) {
    try {
      if (await create(lock)) return () => rm(lock, { force: true });
    } catch (e) {
      throw outputError(`cannot lock the results file ${path}`, path, e);
    }
    let ino: number;
    let pid: number;
    try {
      const fh = await open(lock, 'r'); // inode and pid from one open file, not two looks at a name
      try {
        ino = (await fh.stat()).ino;
        pid = Number((await fh.readFile('utf8')).trim());
      } finally {
        await fh.close();
      }
    } catch (e) {
      if (errno(e) === 'ENOENT') continue; // released meanwhile
      throw outputError(`cannot read the lock of ${path}`, path, e);
    }
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      throw new VidlmError('ERR_INVALID_ARG', `${path} is being written by another vidlm batch (pid ${pid}); wait for it or stop it`, { path, pid });
    }
    await removeStale(lock, ino).catch((e) => { throw outputError(`cannot take over the lock of ${path}`, path, e); }); // left by a killed run
  }
  throw new VidlmError('ERR_INVALID_ARG', `cannot lock the results file ${path}: it keeps changing hands`, { path });
}
