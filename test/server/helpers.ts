// Shared by the server tests: a server on 127.0.0.1 over the tiny model, a media folder with the
// generated clips, and small fetch helpers.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type ServerOptions, type VidlmServer } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';

export interface MediaDir { dir: string; clip: string; still: string; photo: string; outside: string; cleanup(): void }

/** A media folder: the 4 s clip, a PNG, a 4032×3024 JPEG (phone photo size), and a symlink out of it. */
export async function mediaDir(): Promise<MediaDir> {
  const dir = mkdtempSync(join(tmpdir(), 'vidlm-serve-'));
  const clipSrc = await media.h264();
  copyFileSync(clipSrc, join(dir, 'clip.mp4'));
  copyFileSync(await media.image('png'), join(dir, 'still.png'));
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=4032x3024', '-frames:v', '1', '-q:v', '3', join(dir, 'photo.jpg')]);
  const outsideDir = mkdtempSync(join(tmpdir(), 'vidlm-outside-'));
  const outside = join(outsideDir, 'secret.mp4');
  copyFileSync(clipSrc, outside);
  symlinkSync(outside, join(dir, 'link.mp4'));
  writeFileSync(join(dir, 'notes.txt'), 'not a video\n'.repeat(100));
  return {
    dir, clip: join(dir, 'clip.mp4'), still: join(dir, 'still.png'), photo: join(dir, 'photo.jpg'), outside,
    cleanup: () => { rmSync(dir, { recursive: true, force: true }); rmSync(outsideDir, { recursive: true, force: true }); },
  };
}

export async function startServer(opts: Partial<ServerOptions> = {}): Promise<{ server: VidlmServer; url: string }> {
  const m = await tinyModels();
  const server = await createServer({ model: { model: m.model, mmproj: m.mmproj!, threads: 1 }, contextSize: 2048, ...opts });
  const url = await server.listen({ port: 0 });
  return { server, url };
}

/** `vidlm serve` in its own process, as deployed: its URL once it listens, and stop() (SIGTERM, then its exit). */
export async function spawnServer(args: string[]): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const m = await tinyModels();
  const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'serve', '--model', m.model, '--mmproj', m.mmproj!, '--port', '0', '--threads', '1', '--ctx-size', '2048', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      const m = /at (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`vidlm serve exited early: ${stderr}`)));
  });
  return { url, child, stop: async () => { child.kill('SIGTERM'); await exited; } };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await r.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: r.status, json, headers: r.headers };
}

/** The data events of an SSE response body, in order ('[DONE]' included). */
export function sseData(text: string): string[] {
  return text.split('\n\n').map((e) => e.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')).filter((d) => d.length > 0);
}

export const videoTurn = (url: string, text = 'What happens in the video?') => ({ role: 'user', content: [{ type: 'video_url', video_url: { url } }, { type: 'text', text }] });
