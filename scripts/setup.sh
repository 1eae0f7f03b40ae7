#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for vidlm development: system packages (compilers,
# CMake, Ninja, ccache, nasm and zlib for the pinned FFmpeg build, the ffmpeg program for test
# media and benchmark references only; redis-server, tmux and openssl for the batch tests; chromium for
# the browser test of the serve page; iproute2 for the server's network-namespace test; PyTorch
# (Debian's python3-torch, with OpenBLAS) to train the semantic eval's tiny model), npm
# dependencies, the vendored llama.cpp and FFmpeg sources, the pinned FFmpeg build (cached per machine), the native addon, the TypeScript build
# and the semantic eval's trained model (cached per machine in ~/.cache/vidlm; trained once, minutes on 2 cores).
# Safe to run again: each step is skipped or incremental when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(build-essential cmake ninja-build ccache pkg-config git xz-utils nasm zlib1g-dev ffmpeg libjpeg-turbo-progs webp time patchelf redis-server tmux openssl chromium iproute2 python3-torch libopenblas0-pthread)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "vidlm setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm run build
npm run semantic:model
