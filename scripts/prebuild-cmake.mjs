#!/usr/bin/env node
// prebuildify's node-gyp, replaced: prebuildify runs `<this> rebuild --target=.. --arch=.. --release`
// in its --cwd and then takes <cwd>/build/Release/*.node and every shared library beside it
// (stripped) into prebuilds/<platform>-<arch>/. This builds the portable configuration there with
// cmake-js instead (incrementally: "rebuild" would throw away ccache-friendly build state).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(process.cwd(), 'build');
const r = spawnSync(process.execPath, [join(root, 'scripts/build-native.mjs'), '--out', out], {
  stdio: 'inherit',
  env: { ...process.env, VIDLM_PREBUILD_CONFIG: '1', VIDLM_PORTABLE: '1' },
});
process.exit(r.status ?? 1);
