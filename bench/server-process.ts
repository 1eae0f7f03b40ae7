/** What the server benchmarks share: a generated test clip in .cache/media, and waiting for a server process to answer /health. */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The folder both servers serve media from, with `name` generated there once (testsrc2, H.264). */
export function benchClip(root: string, name: string, seconds: number, size: string): { dir: string; clip: string } {
  const dir = join(root, '.cache', 'media');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, name))) {
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=duration=${seconds}:size=${size}:rate=30`,
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', join(dir, name)]);
  }
  return { dir, clip: name };
}

/** Resolves once GET /health answers 200; throws if the process exits first or it never does (2 min). */
export async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try { if ((await fetch(`${url}/health`)).status === 200) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}
