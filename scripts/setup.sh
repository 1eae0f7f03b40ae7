#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for vidlm development: system packages (FFmpeg
# libraries for beamcoder, the ffmpeg program for test media, CMake, Ninja, ccache), npm
# dependencies, the vendored llama.cpp source, the native addon and the TypeScript build.
# Safe to run again: each step is skipped or incremental when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(build-essential cmake ninja-build ccache pkg-config git ffmpeg
  libavformat-dev libavcodec-dev libavdevice-dev libavfilter-dev libswscale-dev
  libswresample-dev libavutil-dev libpostproc-dev)

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
