#!/usr/bin/env node
// Unpacks the pinned llama.cpp source into vendor/llama.cpp.
// The source comes from the git bundle that the npm package node-llama-cpp ships, so the only
// network access is the npm registry. Idempotent: a tree already at the pinned commit is kept.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pin = JSON.parse(readFileSync(join(here, 'llama.cpp.pin.json'), 'utf8'));
const dest = join(here, 'llama.cpp');
const cache = join(here, '.cache');
const stamp = join(dest, '.vidlm-pin');
const want = `${pin.package}@${pin.version} ${pin.sha256}`;

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], ...opts }).toString().trim();
}

if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) {
  console.log(`vendor/llama.cpp is at ${pin.package}@${pin.version}`);
  process.exit(0);
}

mkdirSync(cache, { recursive: true });
const tgz = join(cache, `${pin.package}-${pin.version}.tgz`);
if (!existsSync(tgz)) {
  console.log(`fetching ${pin.package}@${pin.version} from the npm registry`);
  run('npm', ['pack', `${pin.package}@${pin.version}`, '--pack-destination', cache, '--silent']);
}
const sha = createHash('sha256').update(readFileSync(tgz)).digest('hex');
if (sha !== pin.sha256) {
  rmSync(tgz, { force: true });
  console.error(`vidlm: checksum mismatch for ${pin.package}@${pin.version}\n  expected ${pin.sha256}\n  got      ${sha}\n` +
    'The tarball was removed; if the pin was changed on purpose, update vendor/llama.cpp.pin.json.');
  process.exit(2);
}

const unpack = join(cache, 'unpacked');
rmSync(unpack, { recursive: true, force: true });
mkdirSync(unpack, { recursive: true });
run('tar', ['xzf', tgz, '-C', unpack, pin.bundle, pin.info]);
const info = JSON.parse(readFileSync(join(unpack, pin.info), 'utf8'));

rmSync(dest, { recursive: true, force: true });
run('git', ['-c', 'advice.detachedHead=false', 'clone', '--quiet', join(unpack, pin.bundle), dest]);
const commit = run('git', ['-C', dest, 'rev-parse', 'HEAD']);
rmSync(join(dest, '.git'), { recursive: true, force: true });
rmSync(unpack, { recursive: true, force: true });
writeFileSync(join(dest, 'vidlm-llama.json'), JSON.stringify({ tag: info.tag, commit, repo: info.llamaCppGithubRepo }, null, 2) + '\n');
writeFileSync(stamp, want + '\n');
console.log(`vendor/llama.cpp: llama.cpp ${info.tag} (${commit.slice(0, 10)}) from ${pin.package}@${pin.version}`);
