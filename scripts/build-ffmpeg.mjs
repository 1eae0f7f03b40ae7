#!/usr/bin/env node
// Builds the pinned FFmpeg (vendor/ffmpeg, from `node vendor/fetch-ffmpeg.mjs`) the way vidlm
// ships it: LGPL only, decode-only for the formats users meet, shared libraries named
// lib*-vidlm.so.N that find each other through $ORIGIN. Installs into a cache folder keyed by
// the pin and the configuration, so every checkout and CI clone on the machine reuses one build.
// Prints the install prefix on its last line (scripts/build-native.mjs passes it to CMake).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'vendor', 'ffmpeg');
const pin = JSON.parse(readFileSync(join(root, 'vendor', 'ffmpeg.pin.json'), 'utf8'));

// What users meet, decode side; the PNG encoder is for `vidlm frames`.
const demuxers = ['mov', 'matroska', 'avi', 'mpegts', 'mpegps', 'flv', 'gif', 'image2', 'image_png_pipe', 'image_jpeg_pipe',
  'image_webp_pipe', 'image_gif_pipe', 'image_bmp_pipe', 'apng', 'hls', 'rtsp', 'rtp', 'sdp', 'h264', 'hevc', 'mjpeg', 'ivf', 'yuv4mpegpipe',
  // the probes MPEG-PS (.mpg, .vob) runs on its video streams: without them no video stream is found
  'mpegvideo', 'm4v',
  'wav', 'mp3', 'aac', 'ogg', 'flac',
  // subtitle files users pass next to a video (`subtitles: 'movie.srt'`)
  'srt', 'webvtt', 'ass'];
const decoders = ['h264', 'hevc', 'vp8', 'vp9', 'mpeg4', 'mpeg1video', 'mpeg2video', 'mjpeg', 'png', 'apng', 'webp', 'gif', 'bmp', 'rawvideo',
  'aac', 'aac_latm', 'mp3', 'mp3float', 'mp2', 'opus', 'vorbis', 'flac',
  'pcm_s16le', 'pcm_s16be', 'pcm_s24le', 'pcm_s32le', 'pcm_f32le', 'pcm_f64le', 'pcm_u8', 'pcm_alaw', 'pcm_mulaw',
  // text subtitle tracks: mp4 mov_text, mkv SubRip/ASS/WebVTT, plain text
  'movtext', 'subrip', 'srt', 'webvtt', 'ass', 'ssa', 'text'];
const parsers = ['h264', 'hevc', 'vp8', 'vp9', 'av1', 'mpeg4video', 'mpegvideo', 'mjpeg', 'png', 'webp', 'gif',
  'aac', 'aac_latm', 'mpegaudio', 'opus', 'vorbis', 'flac'];
const protocols = ['file', 'pipe', 'http', 'httpproxy', 'tcp', 'udp', 'rtp', 'hls', 'crypto', 'data'];

export const configureFlags = [
  '--disable-everything', '--disable-autodetect', '--disable-programs', '--disable-doc', '--disable-debug',
  '--disable-avdevice', '--disable-avfilter', '--disable-postproc',
  '--enable-shared', '--disable-static', '--build-suffix=-vidlm', '--enable-zlib',
  '--enable-swscale', '--enable-swresample', '--enable-network',
  `--enable-demuxer=${demuxers.join(',')}`, `--enable-decoder=${decoders.join(',')}`,
  `--enable-parser=${parsers.join(',')}`, `--enable-protocol=${protocols.join(',')}`, '--enable-encoder=png',
];

export function ffmpegPrefix() {
  const key = createHash('sha256').update(JSON.stringify([pin.sha256, configureFlags, process.arch, process.platform])).digest('hex').slice(0, 12);
  const base = process.env.VIDLM_FFMPEG_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vidlm');
  return join(base, `ffmpeg-${pin.version}-${key}`);
}

function main() {
  const prefix = ffmpegPrefix();
  const done = join(prefix, '.vidlm-built');
  if (existsSync(done)) { console.log(prefix); return; }
  if (!existsSync(join(src, 'configure'))) execFileSync(process.execPath, [join(root, 'vendor', 'fetch-ffmpeg.mjs')], { stdio: 'inherit' });
  const build = `${prefix}.build`;
  rmSync(build, { recursive: true, force: true });
  mkdirSync(build, { recursive: true });
  const started = Date.now();
  const cc = spawnSync('ccache', ['--version']).status === 0 ? ['--cc=ccache cc'] : [];
  const step = (cmd, args) => {
    const r = spawnSync(cmd, args, { cwd: build, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CCACHE_BASEDIR: build } });
    if (r.status !== 0) { console.error(`build-ffmpeg: ${cmd} failed`); process.exit(r.status ?? 1); }
  };
  console.error(`build-ffmpeg: FFmpeg ${pin.version} → ${prefix}`);
  step(join(src, 'configure'), [`--prefix=${prefix}`, ...cc, ...configureFlags]);
  step('make', ['-j', String(cpus().length)]);
  step('make', ['install']);
  // one real file per library, named by its soname (what the others' DT_NEEDED and vidlm's
  // dlopen ask for), stripped: no symlinks to carry into the package
  const lib = join(prefix, 'lib');
  for (const f of readdirSync(lib)) {
    const m = /^(lib[a-z]+-vidlm\.so\.\d+)\.\d+\.\d+$/.exec(f);
    if (!m) continue;
    const so = join(lib, m[1]);
    rmSync(so, { force: true });
    renameSync(join(lib, f), so);
    spawnSync('strip', ['--strip-unneeded', so]);
    // each library finds its siblings next to itself, wherever the prebuild folder is
    if (process.platform === 'linux') step('patchelf', ['--set-rpath', '$ORIGIN', so]);
  }
  for (const f of readdirSync(lib)) if (/^lib[a-z]+-vidlm\.so$/.test(f)) rmSync(join(lib, f), { force: true });
  writeFileSync(done, JSON.stringify({ version: pin.version, sha256: pin.sha256, flags: configureFlags }, null, 2) + '\n');
  rmSync(build, { recursive: true, force: true });
  console.error(`build-ffmpeg: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(prefix);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
