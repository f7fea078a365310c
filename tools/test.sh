#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The test suite: set up, build the release, ASan+UBSan, ThreadSanitizer (mmudiff only), libFuzzer
# and AFL++ configurations (presets default, asan, tsan, fuzz, afl), then run every test in the
# release build -- the campaign tests drive real libFuzzer and AFL++ campaigns, and the OSS-Fuzz
# build is built and run --, every test but those in the ASan+UBSan build (the engines are the same
# there), and a soak of concurrent sections on real threads under ThreadSanitizer.
#   tools/test.sh            everything, as CI runs it
#   tools/test.sh --quick    without the fuzz engines and ThreadSanitizer: presets default and asan
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
presets=(default asan tsan fuzz afl)
release_filter=()
if [ "${1:-}" = "--quick" ]; then
  presets=(default asan)
  release_filter=(-LE "engines|slow")
fi
tools/setup.sh "${presets[@]}"
echo "test.sh: built in $((SECONDS - start)) s"
ctest --preset default "${release_filter[@]}"
echo "test.sh: release suite done at $((SECONDS - start)) s"
ctest --preset asan -LE "engines|slow"
echo "test.sh: ASan+UBSan suite done at $((SECONDS - start)) s"
if [[ " ${presets[*]} " == *" tsan "* ]]; then
  # Real threads race on the kernel's and the walker's atomics; any ThreadSanitizer report fails
  # the run (the replay child stops at it, and its report comes out on stderr). Findings of the
  # oracles are the soak's to report, as in any soak: exit status 1 is not a failure here.
  out=$(mktemp -d)
  status=0
  TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$PWD/tools/tsan.supp" \
    build/tsan/tools/mmudiff/mmudiff soak --profile arm64-6.12 --backends linux612,walker \
    --vcpus 2 --threads 2 -n 1000 --seed 1 --out "$out/findings" >"$out/log" 2>&1 || status=$?
  tail -n 3 "$out/log"
  if grep -q ThreadSanitizer "$out/log" || [ "$status" -gt 1 ]; then
    grep -A40 ThreadSanitizer "$out/log" | head -n 80
    echo "test.sh: the threaded soak under ThreadSanitizer failed (status $status)"
    exit 1
  fi
  rm -rf "$out"
  echo "test.sh: threaded soak under ThreadSanitizer done at $((SECONDS - start)) s"
fi
echo "test.sh: done in $((SECONDS - start)) s"
