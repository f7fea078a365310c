#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds fuzz/oss-fuzz/build.sh the way OSS-Fuzz's libFuzzer+ASan build does (clang, its ASan
# and coverage flags, LIB_FUZZING_ENGINE=-fsanitize=fuzzer, OUT a fresh directory), checks what
# it emits, and runs the emitted target over its own seed corpus with its own .options.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export CC=clang CXX=clang++
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
export OUT="$scratch/out" WORK="$scratch/work" SRC="$here/.."
mkdir -p "$OUT" "$WORK"
nice bash "$here/fuzz/oss-fuzz/build.sh" >"$scratch/build.log" 2>&1 || {
  tail -30 "$scratch/build.log"
  echo "FAIL: build.sh failed"
  exit 1
}
name=mmudiff_stream_fuzzer
for f in "$name" "$name.options" "$name.dict" "${name}_seed_corpus.zip"; do
  [ -s "$OUT/$f" ] || { echo "FAIL: build.sh did not emit $f"; exit 1; }
done
grep -q "^dict = $name.dict$" "$OUT/$name.options" || { echo "FAIL: .options names no dict"; exit 1; }
# Into a file first: grep -q stopping early would kill nm with SIGPIPE, a failure under pipefail.
nm -C "$OUT/$name" >"$scratch/symbols"
grep -q __asan_init "$scratch/symbols" || { echo "FAIL: target is not built with ASan"; exit 1; }
mkdir "$scratch/corpus"
unzip -q "$OUT/${name}_seed_corpus.zip" -d "$scratch/corpus"
seeds=$(ls "$scratch/corpus" | wc -l)
[ "$seeds" -ge 5 ] || { echo "FAIL: only $seeds seeds in the corpus zip"; exit 1; }
# As a runner would: from $OUT, with the .options' dict, over the seeds, a few hundred runs.
(cd "$OUT" && ASAN_OPTIONS=detect_leaks=1 "./$name" -dict="$name.dict" -max_len=4096 -runs=300 \
  -seed=1 "$scratch/corpus") >"$scratch/run.log" 2>&1 || {
  tail -30 "$scratch/run.log"
  echo "FAIL: the emitted target failed on its own seed corpus"
  exit 1
}
grep -q "Dictionary: [1-9][0-9]* entries" "$scratch/run.log" || { echo "FAIL: dictionary not loaded"; exit 1; }
grep -E "^#[0-9]+[[:space:]]+DONE" "$scratch/run.log" || { echo "FAIL: no DONE line"; exit 1; }
echo "PASS: OSS-Fuzz-style build emits a working target with $seeds seeds"
