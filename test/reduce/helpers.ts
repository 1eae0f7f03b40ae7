// The reduce tests' clip: three held pictures (red, green, red again; 2 s each at 10 fps), made by the ffmpeg program.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MEDIA_DIR } from '../fixtures/media.js';

const run = promisify(execFile);

export async function heldClip(): Promise<string> {
  const out = join(MEDIA_DIR, 'held-rgr.mp4');
  if (existsSync(out)) return out;
  mkdirSync(MEDIA_DIR, { recursive: true });
  const src = (c: string) => ['-f', 'lavfi', '-i', `color=c=${c}:s=192x128:r=10:d=2`];
  const tmp = `${out}.tmp${process.pid}.mp4`;
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...src('red'), ...src('green'), ...src('red'),
    '-filter_complex', '[0][1][2]concat=n=3:v=1', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', tmp]);
  renameSync(tmp, out);
  return out;
}
