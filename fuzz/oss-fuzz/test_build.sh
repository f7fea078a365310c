#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds an OSS-Fuzz-style build script -- fuzz/oss-fuzz/build.sh, or the one given, such as
# .clusterfuzzlite/build.sh -- the way OSS-Fuzz's and ClusterFuzzLite's libFuzzer+ASan build does
# (clang, its ASan and coverage flags, -stdlib=libc++ as OSS-Fuzz adds it,
# LIB_FUZZING_ENGINE=-fsanitize=fuzzer, OUT a fresh directory), checks what it emits for every
# target, and runs each emitted target over its own seed corpus with its own .options, from $OUT
# as a runner would.
#   fuzz/oss-fuzz/test_build.sh [BUILD_SCRIPT]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
script="${1:-$here/fuzz/oss-fuzz/build.sh}"
# shellcheck source=fuzz/decoder_targets.sh
source "$here/fuzz/decoder_targets.sh"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export CC=clang CXX=clang++
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS -stdlib=libc++"
export LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
export OUT="$scratch/out" WORK="$scratch/work" SRC="$here/.."
mkdir -p "$OUT" "$WORK"
# From another directory, as the builders run it (their working directory is the checkout; the
# script must not depend on it).
(cd "$scratch" && nice bash "$script") >"$scratch/build.log" 2>&1 || {
  tail -30 "$scratch/build.log"
  echo "FAIL: $script failed"
  exit 1
}
grep "^build.sh:" "$scratch/build.log" || true
for name in mmudiff_stream_fuzzer "${mmudiff_decoder_targets[@]/#/mmudiff_}"; do
  for f in "$name" "$name.options" "$name.dict" "${name}_seed_corpus.zip"; do
    [ -s "$OUT/$f" ] || { echo "FAIL: $script did not emit $f"; exit 1; }
  done
  grep -q "^dict = $name.dict$" "$OUT/$name.options" || { echo "FAIL: $name.options names no dict"; exit 1; }
  max_len="$(sed -n 's/^max_len = //p' "$OUT/$name.options")"
  [ -n "$max_len" ] || { echo "FAIL: $name.options sets no max_len"; exit 1; }
  # Into a file first: grep -q stopping early would kill nm with SIGPIPE, a failure under pipefail.
  nm -C "$OUT/$name" >"$scratch/symbols"
  grep -q __asan_init "$scratch/symbols" || { echo "FAIL: $name is not built with ASan"; exit 1; }
  rm -rf "$scratch/corpus"
  mkdir "$scratch/corpus"
  unzip -q "$OUT/${name}_seed_corpus.zip" -d "$scratch/corpus"
  seeds=$(ls "$scratch/corpus" | wc -l)
  [ "$seeds" -ge 5 ] || { echo "FAIL: only $seeds seeds in $name's corpus zip"; exit 1; }
  # As a runner would: from $OUT, with the .options' dict and bound, over the seeds.
  (cd "$OUT" && ASAN_OPTIONS=detect_leaks=1 "./$name" -dict="$name.dict" -max_len="$max_len" \
    -runs=300 -seed=1 "$scratch/corpus") >"$scratch/run.log" 2>&1 || {
    tail -30 "$scratch/run.log"
    echo "FAIL: $name failed on its own seed corpus"
    exit 1
  }
  grep -q "Dictionary: [1-9][0-9]* entries" "$scratch/run.log" || { echo "FAIL: $name: dictionary not loaded"; exit 1; }
  done_line="$(grep -E "^#[0-9]+[[:space:]]+DONE" "$scratch/run.log")" || { echo "FAIL: $name: no DONE line"; exit 1; }
  echo "$name: $seeds seeds; $done_line"
done
echo "PASS: $(basename "$(dirname "$script")")/$(basename "$script") emits 3 working targets"
