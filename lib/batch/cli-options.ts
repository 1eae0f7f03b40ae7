/** Flags shared by `vidlm batch` and `vidlm worker`, and the job defaults some of them set. */
import { resolve } from 'node:path';
import { answerFlags, answerOptions, num, soundFlags, soundOptions } from '../cli-flags.js';
import { subtitleOption } from '../subtitles/cli.js';
import { isSubtitleFile } from '../subtitles/external.js';
import type { JobOptions } from './jobs.js';

/** Flags that become every job's options (a job's own `options` win). */
export const jobDefaultFlags = {
  strategy: { type: 'string', short: 's' },
  frames: { type: 'string', short: 'f' },
  fps: { type: 'string' },
  'time-tokens': { type: 'string' },
  ...answerFlags,
  ...soundFlags,
} as const;


export function jobDefaults(v: Partial<Record<keyof typeof jobDefaultFlags, string>>): JobOptions {
  const d: Record<string, unknown> = {
    strategy: v.strategy,
    frames: num('frames', v.frames),
    fps: num('fps', v.fps),
    timeTokens: v['time-tokens'],
    ...answerOptions(v),
    ...soundOptions(v),
    subtitles: subtitleFlag(v.subtitles),
  };
  for (const k of Object.keys(d)) if (d[k] === undefined) delete d[k];
  return d as JobOptions;
}

/** `--subtitles FILE` is a path from where the command runs (made absolute, so the jobs file's folder does not move it). */
function subtitleFlag(v: string | undefined): JobOptions['subtitles'] {
  const s = subtitleOption(v);
  return typeof s === 'string' && isSubtitleFile(s) ? resolve(s) : s;
}

/** Runs `onStop` on the first SIGINT/SIGTERM; a second one ends the process at once. */
export function onStopSignal(onStop: (signal: string) => void): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    onStop(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => { process.off('SIGINT', handler); process.off('SIGTERM', handler); };
}
