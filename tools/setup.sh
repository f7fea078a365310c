#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs the Debian packages mmudiff needs (if missing), then configures and builds the given
# CMake presets (default: "default"; also asan, tsan, fuzz, afl; tsan builds only mmudiff, its
# build preset's one target). Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build g++ clang libclang-rt-14-dev llvm afl++ pkg-config
  libz3-dev nlohmann-json3-dev libsodium-dev libcli11-dev libfmt-dev
  googletest libgtest-dev libbenchmark-dev linux-source-6.1 linux-source-6.12 xz-utils git zip unzip gnuplot-nox ccache
  libvalijson-dev json-schema-test-suite
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Rebuilds of the same sources (CI on a fresh clone, one build per preset) come from ccache.
# Paths are taken relative to the checkout, so another clone of the same sources hits too.
if command -v ccache >/dev/null; then
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
fi

# Your own kernel trees (mmu/kernel_trees/README.md): MMUDIFF_KERNEL_TREES="mine=/path;..." builds
# each into every preset, so campaigns fuzz them too; set to "" it takes them out again.
tree_args=()
if [ -n "${MMUDIFF_KERNEL_TREES+set}" ]; then
  tree_args=(-DMMUDIFF_KERNEL_TREES="$MMUDIFF_KERNEL_TREES")
fi
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(default)
for preset in "${presets[@]}"; do
  cmake --preset "$preset" "${tree_args[@]}" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)"
done
