/** Flags shared by `vidlm batch` and `vidlm worker`, and the job defaults some of them set. */
import { resolve } from 'node:path';
import { answerFlags, answerOptions, num, soundFlags, soundOptions } from '../cli-flags.js';
import { subtitleOption } from '../subtitles/cli.js';
import { isSubtitleFile } from '../video/subtitles.js';
import type { JobOptions } from './jobs.js';
import { reduceFlag, reduceFlags } from '../reduce/cli.js';
import type { JobLimits } from '../limits.js';

/** Flags that become every job's options (a job's own `options` win). */
export const jobDefaultFlags = {
  strategy: { type: 'string', short: 's' },
  frames: { type: 'string', short: 'f' },
  fps: { type: 'string' },
  'fps-rule': { type: 'string' },
  'time-tokens': { type: 'string' },
  ...answerFlags,
  ...soundFlags,
  ...reduceFlags,
} as const;


export function jobDefaults(v: Partial<Record<keyof typeof jobDefaultFlags, string>>): JobOptions {
  const d: Record<string, unknown> = {
    strategy: v.strategy,
    frames: num('frames', v.frames),
    fps: num('fps', v.fps),
    fpsRule: v['fps-rule'],
    timeTokens: v['time-tokens'],
    ...answerOptions(v),
    ...soundOptions(v),
    subtitles: subtitleFlag(v.subtitles),
    reduce: reduceFlag(v.reduce),
  };
  for (const k of Object.keys(d)) if (d[k] === undefined) delete d[k];
  return d as JobOptions;
}

/** `--subtitles FILE` is a path from where the command runs (made absolute, so the jobs file's folder does not move it). */
function subtitleFlag(v: string | undefined): JobOptions['subtitles'] {
  const s = subtitleOption(v);
  return typeof s === 'string' && isSubtitleFile(s) ? resolve(s) : s;
}

/** Flags of batch and worker that cap what any one job may ask for (loadModel's `limits`). */
export const limitFlags = {
  'max-ctx-size': { type: 'string' },
  'max-frames': { type: 'string' },
  'max-audio-seconds': { type: 'string' },
  'max-decoded-mb': { type: 'string' },
} as const;

export const LIMITS_USAGE = `Limits on any one job (over one: an ERR_INVALID_ARG result, before any work):
  --max-ctx-size N (default: the model's trained length, at least 65536)  --max-frames N (default 1024)
  --max-audio-seconds S (default 3600)  --max-decoded-mb MB (decoded pictures and sound, default 4096)`;

export function limitsOf(v: Partial<Record<keyof typeof limitFlags, string>>): JobLimits {
  const mb = num('max-decoded-mb', v['max-decoded-mb'], { min: 1 });
  const l: JobLimits = {
    contextSize: num('max-ctx-size', v['max-ctx-size'], { int: true, min: 16 }),
    frames: num('max-frames', v['max-frames'], { int: true, min: 1 }),
    audioSeconds: num('max-audio-seconds', v['max-audio-seconds'], { min: 0.001 }),
    decodedBytes: mb === undefined ? undefined : Math.round(mb * 2 ** 20),
  };
  for (const k of Object.keys(l) as (keyof JobLimits)[]) if (l[k] === undefined) delete l[k];
  return l;
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
