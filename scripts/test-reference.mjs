#!/usr/bin/env node
// Reference equivalence: `vidlm ask --strategy concat --temp 0` must print exactly what
// llama.cpp's own llama-mtmd-cli prints for the same model, image and prompt. llama-mtmd-cli is
// built from the same vendored tree and build folder (cached by ccache). Any difference in
// prompt formatting, image preprocessing or embedding injection shows up here. The audio case:
// `vidlm ask <wav>` (FFmpeg decode + swresample to the encoder's rate, libmtmd's audio path) against
// `llama-mtmd-cli --audio <wav>` (miniaudio) on the tiny Qwen2-Audio pair, with `--audio-length padded`
// (llama-mtmd-cli evaluates every embedding of the clip padded to 30 s; vidlm's default keeps the real length's). Picture and sound on one
// model (the tiny Qwen2.5-Omni mmproj): an mkv of the testsrc still (PNG, so the frame is the same
// pixels) with the tone-burst wav, asked with one frame and `--audio prefix` (the sound, then the
// frame) and `--audio interleave --audio-window 4` (one window: the frame, then its sound), against
// llama-mtmd-cli given the wav and the png in the same order. The M-RoPE pairs: the tiny Qwen2.5-VL pair (window
// attention; the 160×120 picture spans two 112-px windows) and the tiny Qwen3-VL pair (interleaved M-RoPE,
// DeepStack) asked about the picture with the native strategy: libmtmd's own positions on both sides.
// VIDLM_REFERENCE_CLI=path uses an llama-mtmd-cli built elsewhere from the same tree (no build here).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliBin = process.env.VIDLM_REFERENCE_CLI ?? join(root, 'build', 'bin', 'llama-mtmd-cli');
if (!process.env.VIDLM_REFERENCE_CLI) execFileSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--target', 'llama-mtmd-cli'], { stdio: 'inherit' });
const { tinyModels } = await import(join(root, 'dist', 'fixtures', 'tiny-models.js'));
const m = await tinyModels();

const media = join(root, '.cache', 'media');
mkdirSync(media, { recursive: true });
const cases = [
  { image: join(media, 'reference-testsrc.png'), lavfi: 'testsrc=size=112x112:rate=1', question: 'What is in the image?' },
  { image: join(media, 'reference-mandelbrot.png'), lavfi: 'mandelbrot=size=160x120:rate=1', question: 'Describe the picture in detail.' },
  { image: join(media, 'reference-mandelbrot.png'), lavfi: 'mandelbrot=size=160x120:rate=1', question: 'Describe the picture in detail.', pair: 'qwen25vl' },
  { image: join(media, 'reference-mandelbrot.png'), lavfi: 'mandelbrot=size=160x120:rate=1', question: 'Describe the picture in detail.', pair: 'qwen3vl' },
  // 4 s of silence with a 1 kHz burst at 2.0-2.5 s, 16 kHz mono s16 (test/fixtures/media.ts toneBurstWav)
  { audio: join(media, 'toneburst.wav'), lavfi: "aevalsrc='if(between(t,2,2.5),0.5*sin(2*PI*1000*t),0)':s=16000:d=4", question: 'What do you hear?' },
  { av: 'prefix', question: 'What do you see and hear?' },
  { av: 'interleave', question: 'What do you see and hear?' },
];
const avVideo = join(media, 'reference-av.mkv');
const threads = '2';
let failed = 0;
for (const c of cases) {
  if (c.av) {
    const [png, wav] = [cases[0].image, cases.find((x) => x.audio).audio];
    if (!existsSync(avVideo)) execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-loop', '1', '-framerate', '1', '-t', '4', '-i', png, '-i', wav, '-map', '0:v', '-map', '1:a', '-c:v', 'png', '-c:a', 'copy', '-shortest', avVideo]);
    const media = c.av === 'prefix' ? ['--audio', wav, '--image', png] : ['--image', png, '--audio', wav];
    const ref = spawnSync(cliBin, ['-m', m.qwen2vlModel, '--mmproj', m.qwen25OmniMmproj, ...media, '-p', `<__media__><__media__>\n${c.question}`,
      '--temp', '0', '-n', '24', '-c', '2048', '-t', threads], { encoding: 'utf8' });
    if (ref.status !== 0) { console.error(ref.stderr); throw new Error(`llama-mtmd-cli exited with ${ref.status}`); }
    const expected = ref.stdout.replace(/^\n/, '').replace(/\n+$/, '');
    const ours = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'ask', avVideo, c.question, '--model', m.qwen2vlModel, '--mmproj', m.qwen25OmniMmproj,
      '--frames', '1', '--audio', c.av, '--audio-length', 'padded', ...(c.av === 'interleave' ? ['--audio-window', '4'] : []), '--temp', '0', '--max-tokens', '24', '--ctx-size', '2048', '--threads', threads, '--json'], { encoding: 'utf8' });
    if (ours.status !== 0) { console.error(ours.stderr); throw new Error(`vidlm ask exited with ${ours.status}`); }
    const got = JSON.parse(ours.stdout).text;
    if (got !== expected) failed++;
    console.log(`${got === expected ? 'ok    ' : 'DIFFER'} reference-av.mkv, --audio ${c.av}\n  llama-mtmd-cli: ${JSON.stringify(expected)}\n  vidlm ask:      ${JSON.stringify(got)}`);
    continue;
  }
  const file = c.image ?? c.audio;
  if (!existsSync(file)) execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', c.lavfi, ...(c.image ? ['-frames:v', '1'] : ['-c:a', 'pcm_s16le']), file]);
  const pairs = { qwen25vl: [m.qwen2vlModel, m.qwen25vlMmproj], qwen3vl: [m.qwen3vlModel, m.qwen3vlMmproj] };
  const [model, mmproj] = c.pair ? pairs[c.pair] : c.image ? [m.model, m.mmproj] : [m.qwen2Model, m.qwen2AudioMmproj];
  // llama-mtmd-cli: the marker, a newline, the question (vidlm's user turn is the same)
  const ref = spawnSync(cliBin, ['-m', model, '--mmproj', mmproj, c.image ? '--image' : '--audio', file, '-p', `<__media__>\n${c.question}`,
    '--temp', '0', '-n', '24', '-c', '2048', '-t', threads], { encoding: 'utf8' });
  if (ref.status !== 0) { console.error(ref.stderr); throw new Error(`llama-mtmd-cli exited with ${ref.status}`); }
  // it prints "\n" before the answer and newlines after it
  const expected = ref.stdout.replace(/^\n/, '').replace(/\n+$/, '');
  const ours = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'ask', file, c.question, '--model', model, '--mmproj', mmproj,
    ...(c.pair ? ['--strategy', 'native'] : c.image ? ['--strategy', 'concat'] : ['--audio-length', 'padded']), '--temp', '0', '--max-tokens', '24', '--ctx-size', '2048', '--threads', threads, '--json'], { encoding: 'utf8' });
  if (ours.status !== 0) { console.error(ours.stderr); throw new Error(`vidlm ask exited with ${ours.status}`); }
  const got = JSON.parse(ours.stdout).text;
  const same = got === expected;
  if (!same) failed++;
  console.log(`${same ? 'ok    ' : 'DIFFER'} ${file.split('/').pop()}${c.pair ? ` (${c.pair} pair)` : ''}\n  llama-mtmd-cli: ${JSON.stringify(expected)}\n  vidlm ask:      ${JSON.stringify(got)}`);
}

// The semantic eval's trained pair (lib/fixtures/semantic; scripts/setup.sh builds it): on a still
// frame of a state of the synthetic clips (a lossless PNG of the frame the training bank encodes),
// llama-mtmd-cli and `vidlm ask` must both give the PyTorch model's greedy answer
// (python/semantic/reference.py writes it to check-image.json): the GGUF export is what was trained.
const { semanticModel, SEMANTIC_TOWER } = await import(join(root, 'dist', 'fixtures', 'semantic', 'build.js'));
const { renderState } = await import(join(root, 'dist', 'fixtures', 'semantic', 'states.js'));
const sm = await semanticModel();
const size = SEMANTIC_TOWER.imageSize;
const imageCases = JSON.parse(readFileSync(join(sm.dir, 'check-image.json'), 'utf8'));
for (const c of imageCases) {
  const png = join(media, `semantic-state-${c.state}.png`);
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${size}x${size}`, '-i', '-', '-frames:v', '1', png],
    { input: Buffer.from(renderState(c.state, size, size)) });
  const ref = spawnSync(cliBin, ['-m', sm.model, '--mmproj', sm.mmproj, '--image', png, '-p', `<__media__>\n${c.question}`,
    '--temp', '0', '-n', '24', '-c', '2048', '-t', threads], { encoding: 'utf8' });
  if (ref.status !== 0) { console.error(ref.stderr); throw new Error(`llama-mtmd-cli exited with ${ref.status}`); }
  const cli = ref.stdout.replace(/^\n/, '').replace(/\n+$/, '').trim();
  const ours = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'ask', png, c.question, '--model', sm.model, '--mmproj', sm.mmproj,
    '--strategy', 'concat', '--temp', '0', '--max-tokens', '24', '--ctx-size', '2048', '--threads', threads, '--json'], { encoding: 'utf8' });
  if (ours.status !== 0) { console.error(ours.stderr); throw new Error(`vidlm ask exited with ${ours.status}`); }
  const got = JSON.parse(ours.stdout).text.trim();
  const expected = c.text.trim();
  const same = cli === expected && got === expected;
  if (!same) failed++;
  console.log(`${same ? 'ok    ' : 'DIFFER'} semantic pair, state ${c.state}: ${c.question}\n  PyTorch:        ${JSON.stringify(expected)}\n  llama-mtmd-cli: ${JSON.stringify(cli)}\n  vidlm ask:      ${JSON.stringify(got)}`);
}
const total = cases.length + imageCases.length;
console.log(`\n${total - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
