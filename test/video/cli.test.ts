/** `vidlm info` and `vidlm frames`: the built CLI (dist/cli.js, compiled by `npm test`) in a child process. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { openVideo } from '../../lib/video/index.js';
import { media, readCounter } from '../fixtures/media.js';

const root = resolve(import.meta.dirname, '..', '..');
const cli = (...args: string[]) => spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), ...args], { encoding: 'utf8', cwd: root });

t.test('info --json prints only the probe', async (tt) => {
  const r = cli('info', await media.h264(), '--json');
  tt.equal(r.status, 0, r.stderr);
  const p = JSON.parse(r.stdout);
  tt.equal(p.video.width, 384);
  tt.equal(p.video.frameCount, 120);
  tt.equal(p.audio.codec, 'aac');
  const human = cli('info', await media.audioOnly());
  tt.equal(human.status, 0);
  tt.match(human.stdout, /video\s+none/);
  const bad = cli('info', '/nonexistent.mp4', '--json');
  tt.equal(bad.status, 1);
  tt.equal(bad.stdout, '');
  tt.match(bad.stderr, /ERR_VIDEO_OPEN/);
});

t.test('frames --json writes PNGs named by index', async (tt) => {
  const out = mkdtempSync(join(tmpdir(), 'vidlm-cli-'));
  tt.teardown(() => rmSync(out, { recursive: true, force: true }));
  const r = cli('frames', await media.h264(), '--frames', '4', '--size', '96x64', '--out', out, '--json');
  tt.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Array<{ index: number; t: number; file: string }>;
  tt.same(rows.map((x) => x.index), [0, 39, 79, 119]);
  tt.same(readdirSync(out).sort(), ['frame-000000.png', 'frame-000039.png', 'frame-000079.png', 'frame-000119.png']);
  for (const row of rows) {
    const v = await openVideo(row.file);
    const [f] = await v.sample({ uniform: 1 });
    await v.close();
    tt.same([f!.width, f!.height], [96, 64]);
    tt.equal(readCounter(f!), row.index, `${row.file} shows frame ${row.index}`);
    tt.ok(Math.abs(row.t - row.index / 30) < 0.002);
  }
  const times = cli('frames', await media.h264(), '--times', '1,2.5', '--out', out, '--json');
  tt.same(JSON.parse(times.stdout).map((x: { index: number }) => x.index), [30, 75]);
  const lita = cli('frames', await media.h264(), '--lita', '200', '--size', '16x16', '--out', join(out, 'lita'), '--json');
  tt.equal(lita.status, 0);
  tt.equal(JSON.parse(lita.stdout).length, 120);
  tt.match(lita.stderr, /warning: asked for 200 frames/);
  tt.equal(cli('frames', await media.h264(), '--out', out).status, 2, 'a plan is required');
});

t.test('FFmpeg loads lazily and never writes to stdout', async (tt) => {
  const r = spawnSync(process.execPath, ['--import', '@tapjs/typescript/import', resolve(import.meta.dirname, '..', 'fixtures', 'lazy-check.ts'), await media.h264()], { encoding: 'utf8', env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' }, cwd: resolve(import.meta.dirname, '..', '..') });
  tt.equal(r.status, 0, r.stderr);
  tt.same(r.stdout.trim().split('\n').map((l) => JSON.parse(l)), [{ afterImport: false }, { afterProbe: true, width: 384 }], 'stdout holds only the script\'s own lines');
  tt.equal(r.stderr, '', 'FFmpeg logs nothing without VIDLM_LOG');
});

t.test('frames --format rgb24 --out - streams raw pictures to stdout', async (tt) => {
  const root = resolve(import.meta.dirname, '..', '..');
  const r = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'frames', await media.h264(), '--times', '0.5,1,3', '--size', '48x32', '--format', 'rgb24', '--out', '-', '--json'], { cwd: root, maxBuffer: 1 << 24 });
  tt.equal(r.status, 0, r.stderr.toString());
  tt.equal(r.stdout.length, 3 * 48 * 32 * 3, 'three 48x32 RGB24 pictures, nothing else');
  const rows = JSON.parse(r.stderr.toString()) as Array<{ index: number }>;
  tt.same(rows.map((x) => x.index), [15, 30, 90], 'the frame list goes to stderr');
  const v = await openVideo(await media.h264());
  const want = await v.sample({ times: [0.5, 1, 3] }, { size: [48, 32] });
  await v.close();
  want.forEach((f, i) => tt.equal(Buffer.compare(Buffer.from(f.rgb), r.stdout.subarray(i * 4608, (i + 1) * 4608)), 0, `picture ${i} = sample()'s`));
  const bad = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'frames', await media.h264(), '--times', '1', '--format', 'rgb24', '--out', '/tmp/x'], { encoding: 'utf8', cwd: root });
  tt.equal(bad.status, 1);
  tt.match(bad.stderr, /ERR_INVALID_ARG/);
});
