/**
 * One writer per results file: two runs appending to the same journal would each run the jobs
 * the other is running. A `<file>.lock` holding the writer's pid is made with O_EXCL; a lock whose
 * process is gone (a killed run) is taken over. The pid check holds on one machine only: on a
 * shared mount, give each machine its own results file.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { VidlmError } from '../errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock of `path`; resolves with its release. */
export async function lockJournal(path: string): Promise<() => Promise<void>> {
  const lock = `${path}.lock`;
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new VidlmError('ERR_INVALID_ARG', `cannot lock the results file ${path}: ${(e as Error).message}`, { path }, { cause: e });
      }
    }
    const pid = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      throw new VidlmError('ERR_INVALID_ARG', `${path} is being written by another vidlm batch (pid ${pid}); wait for it or stop it`, { path, pid });
    }
    await rm(lock, { force: true }); // left by a run that was killed
  }
  throw new VidlmError('ERR_INVALID_ARG', `cannot lock the results file ${path}`, { path });
}
