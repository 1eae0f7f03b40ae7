#!/usr/bin/env node
// Unpacks the pinned FFmpeg release into vendor/ffmpeg (git-ignored).
// The tarball is upstream's release, unchanged, as Debian's source archive carries it
// (ffmpeg_X.orig.tar.xz with upstream's signature): apt fetches it from the Debian mirror this
// machine is already configured with, through a private sources list (the system's is untouched).
// The sha256 pin is the trust anchor. Idempotent: a tree already at the pin is kept.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pin = JSON.parse(readFileSync(join(here, 'ffmpeg.pin.json'), 'utf8'));
const dest = join(here, 'ffmpeg');
const cache = join(here, '.cache');
const stamp = join(dest, '.vidlm-pin');
const want = `${pin.file} ${pin.sha256}`;
const sha256 = (f) => createHash('sha256').update(readFileSync(f)).digest('hex');

if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) {
  console.log(`vendor/ffmpeg is at FFmpeg ${pin.version}`);
  process.exit(0);
}

mkdirSync(cache, { recursive: true });
const tarball = join(cache, pin.file);
// A copy anywhere the developer keeps it (VIDLM_FFMPEG_TARBALL) or one fetched before.
if (!existsSync(tarball) && process.env.VIDLM_FFMPEG_TARBALL) copyFileSync(process.env.VIDLM_FFMPEG_TARBALL, tarball);
if (!existsSync(tarball)) fetchWithApt();
const sha = sha256(tarball);
if (sha !== pin.sha256) {
  rmSync(tarball, { force: true });
  console.error(`vidlm: checksum mismatch for ${pin.file}\n  expected ${pin.sha256}\n  got      ${sha}\n` +
    'The tarball was removed; if the pin was changed on purpose, update vendor/ffmpeg.pin.json.');
  process.exit(2);
}

rmSync(dest, { recursive: true, force: true });
const unpack = join(cache, 'ffmpeg-unpack');
rmSync(unpack, { recursive: true, force: true });
mkdirSync(unpack, { recursive: true });
execFileSync('tar', ['xJf', tarball, '-C', unpack], { stdio: 'inherit' });
execFileSync('mv', [join(unpack, pin.topDir), dest]);
rmSync(unpack, { recursive: true, force: true });
writeFileSync(stamp, want + '\n');
console.log(`vendor/ffmpeg: FFmpeg ${pin.version} (${pin.file}, sha256 ${pin.sha256.slice(0, 12)}…)`);

/** apt-get source --download-only with a private deb-src list for the pinned suite. */
function fetchWithApt() {
  const mirror = debianMirror();
  if (!mirror) {
    console.error(`vidlm: no Debian mirror configured in /etc/apt; put ${pin.file} (sha256 ${pin.sha256}) somewhere and set VIDLM_FFMPEG_TARBALL`);
    process.exit(2);
  }
  const apt = join(cache, 'apt');
  mkdirSync(join(apt, 'lists', 'partial'), { recursive: true });
  writeFileSync(join(apt, 'sources.list'), `deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} ${pin.debianSuite} main\n`);
  const o = ['-o', `Dir::Etc::sourcelist=${join(apt, 'sources.list')}`, '-o', 'Dir::Etc::sourceparts=-', '-o', `Dir::State::Lists=${join(apt, 'lists')}`, '-o', 'APT::Sandbox::User=root'];
  console.log(`fetching ${pin.file} (Debian ${pin.debianSuite} source of ${pin.debianSource} ${pin.debianVersion})`);
  execFileSync('apt-get', [...o, '-qq', 'update'], { stdio: 'inherit' });
  const dl = join(apt, 'download');
  rmSync(dl, { recursive: true, force: true });
  mkdirSync(dl);
  execFileSync('apt-get', [...o, '-qq', 'source', '--download-only', `${pin.debianSource}=${pin.debianVersion}`], { cwd: dl, stdio: 'inherit' });
  for (const f of [pin.file, pin.signature]) copyFileSync(join(dl, f), join(cache, f));
  if (sha256(join(cache, pin.signature)) !== pin.signatureSha256) console.warn(`vidlm: ${pin.signature} differs from the pin`);
  rmSync(dl, { recursive: true, force: true });
}

/** The first Debian archive URI in the machine's apt configuration (deb822 or one-line format). */
function debianMirror() {
  const files = [];
  for (const d of ['/etc/apt/sources.list.d']) {
    if (existsSync(d)) for (const f of readdirSync(d)) if (/\.(sources|list)$/.test(f)) files.push(join(d, f));
  }
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/^\s*URIs:\s*(\S+)/gm)) if (/\/debian\/?$/.test(m[1])) return m[1];
    for (const m of text.matchAll(/^\s*deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)) if (/\/debian\/?$/.test(m[1])) return m[1];
  }
  return null;
}
