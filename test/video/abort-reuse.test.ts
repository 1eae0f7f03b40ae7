/**
 * A source stays usable after an aborted call. An abort that lands inside FFmpeg's read makes the
 * interrupt callback fail it with AVERROR_EXIT, which FFmpeg keeps in the AVIOContext: every later
 * read of that source failed with it, reported as ERR_VIDEO_TIMEOUT, for good (a server or a chat
 * keeping a source open lost it to one cancelled request). The clip shows its frame counter
 * (test/fixtures/media.ts), so the frames after the abort are checked, not only that they come.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { openVideo } from '../../lib/video/index.js';
import { MEDIA_DIR, counterSource, readCounter } from '../fixtures/media.js';

/** 60 s at 10 fps (600 frames, GOP 20) in MPEG-TS: most of a walk's aborts land in a read there. */
function clip(): string {
  const out = join(MEDIA_DIR, 'containers', 'abort-60s.ts');
  if (existsSync(out)) return out;
  mkdirSync(join(MEDIA_DIR, 'containers'), { recursive: true });
  const tmp = `${out}.tmp${process.pid}.ts`;
  const r = spawnSync('nice', ['-n', '5', 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', counterSource(60, 0, 10),
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '20', '-an', '-f', 'mpegts', tmp]);
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  renameSync(tmp, out);
  return out;
}

t.test('abort a long walk at a few moments; the next plans on the same source give their frames', async (t) => {
  const v = await openVideo(clip());
  t.teardown(() => v.close());
  const aborted: string[] = [];
  for (let d = 1; d <= 12; d++) {
    const ac = new AbortController();
    const walk = v.sample({ all: true }, { size: [96, 64], signal: ac.signal }).then(() => 'done', (e: { code?: string }) => e.code ?? String(e));
    setTimeout(() => ac.abort(), d);
    aborted.push(await walk);
    const fr = await v.sample({ uniform: 5 }, { size: [96, 64] }).catch((e: { code?: string; message?: string }) => e);
    if (!Array.isArray(fr)) { t.fail(`after an abort at ${d} ms: ${fr.code}: ${fr.message}`); continue; }
    t.same(fr.map((f) => f.index), [0, 149, 299, 449, 599], `after an abort at ${d} ms: indices`);
    t.same(fr.map((f) => readCounter(f)), [0, 149, 299, 449, 599], `after an abort at ${d} ms: their pictures`);
  }
  t.ok(aborted.includes('ERR_ABORTED'), `the walks were aborted (${aborted.join(' ')})`);
  t.ok(aborted.every((c) => c === 'ERR_ABORTED' || c === 'done'), 'each aborted walk said so');
  const times = await v.sample({ times: [33.35, 1.05] }, { size: [96, 64], strategy: 'seek' });
  t.same(times.map((f) => readCounter(f)), [334, 11], 'a seek plan after them');
});
