// Shared by the watch tests: a clip whose colour changes at known times, and the rules a test
// uses to know what each window should hold, restated independently of lib/watch.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MEDIA_DIR } from '../fixtures/media.js';

const run = promisify(execFile);

/** Red while t is in one of `red` ([start, end) seconds), blue otherwise; 160×120 at `rate` fps. */
export function colourSource(d: number, red: [number, number][], rate = 10): string {
  const on = red.map(([a, b]) => `gte(T,${a})*lt(T,${b})`).join('+') || '0';
  return `color=black:s=160x120:r=${rate}:d=${d},format=rgb24,geq=r='255*gt(${on},0)':g='0':b='255*eq(${on},0)'`;
}

/** The colour clip as an H.264 mp4 in .cache/media (made once). */
export async function colourClip(d: number, red: [number, number][], rate = 10): Promise<string> {
  const name = `watch-${d}-${red.map((r) => r.join('-')).join('_')}-${rate}.mp4`;
  const out = join(MEDIA_DIR, name);
  if (existsSync(out)) return out;
  mkdirSync(MEDIA_DIR, { recursive: true });
  const tmp = `${out}.tmp${process.pid}.mp4`;
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', colourSource(d, red, rate),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(rate), '-pix_fmt', 'yuv420p', tmp]);
  renameSync(tmp, out);
  return out;
}

/** Is the picture's centre red (the clip's red phase)? */
export function isRed(f: { width: number; height: number; rgb: Uint8Array }): boolean {
  const o = ((f.height >> 1) * f.width + (f.width >> 1)) * 3;
  return f.rgb[o]! > 128 && f.rgb[o + 2]! < 128;
}

/** Frame times a window [max(0, end − window), end) holds when frames come at k / fps. */
export function expectedTimes(end: number, window: number, fps: number): number[] {
  const out: number[] = [];
  for (let k = 0; k / fps < end - 1e-9; k++) if (k / fps >= Math.max(0, end - window) - 1e-9) out.push(k / fps);
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
