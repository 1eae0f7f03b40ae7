// What the reliability scripts share: the compiled library, the tiny models and a test image.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
export const vidlm = await import(join(root, 'dist/index.js'));
const { tinyModels } = await import(join(root, 'dist/fixtures/tiny-models.js'));

export async function tinyModel(opts = {}) {
  const m = await tinyModels();
  return vidlm.loadModel({ model: m.model, mmproj: m.mmproj, threads: 1, ...opts });
}

/** A 112×112 PNG made once with the ffmpeg program. */
export function testImage() {
  const dir = join(root, '.cache', 'media');
  mkdirSync(dir, { recursive: true });
  const image = join(dir, 'robustness-testsrc.png');
  if (!existsSync(image)) execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=112x112:rate=1', '-frames:v', '1', image]);
  return image;
}

export const greedy = { maxTokens: 8, temperature: 0, contextSize: 256 };
