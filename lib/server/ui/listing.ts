/**
 * The media folder as the page lists it: the files a request could name, walked with the same
 * rule media.ts applies to each request (a symlink counts only if its real path stays inside the
 * folder), so the list never offers what a request would be refused.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface ListedFile {
  /** Path relative to the media folder, '/'-separated: what a request's video_url takes. */
  path: string;
  bytes: number;
  kind: 'video' | 'image' | 'audio' | 'subtitles';
  /** Larger than --max-media-mb: a request would get 413. */
  tooLarge: boolean;
}

const KINDS: [RegExp, ListedFile['kind']][] = [
  [/\.(mp4|m4v|mkv|webm|mov|avi|ts|mts|flv|ogv|mpg|mpeg|3gp|gif)$/i, 'video'],
  [/\.(png|jpe?g|webp|bmp|tiff?)$/i, 'image'],
  [/\.(wav|mp3|flac|ogg|oga|opus|m4a|aac)$/i, 'audio'],
  [/\.(srt|vtt|ass|ssa)$/i, 'subtitles'],
];
const MAX_DEPTH = 6;
const MAX_FILES = 2000;

export async function listMedia(folder: string, maxBytes: number): Promise<{ files: ListedFile[]; truncated: boolean }> {
  const root = await realpath(folder);
  const inside = (p: string) => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
  const files: ListedFile[] = [];
  let truncated = false;
  async function walk(dir: string, depth: number): Promise<void> {
    let names: string[];
    try { names = (await readdir(dir)).sort(); } catch { return; }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      if (files.length >= MAX_FILES) { truncated = true; return; }
      const full = join(dir, name);
      let real = full;
      try {
        if ((await lstat(full)).isSymbolicLink()) real = await realpath(full);
      } catch { continue; }
      if (!inside(real)) continue;
      let st;
      try { st = await stat(real); } catch { continue; }
      if (st.isDirectory()) {
        if (depth < MAX_DEPTH && real === full) await walk(full, depth + 1);
        continue;
      }
      const kind = KINDS.find(([re]) => re.test(name))?.[1];
      if (!st.isFile() || !kind) continue;
      files.push({ path: relative(root, full).split(sep).join('/'), bytes: st.size, kind, tooLarge: st.size > maxBytes });
    }
  }
  await walk(root, 0);
  return { files, truncated };
}
