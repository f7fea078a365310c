#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The test suite: set up, build the release, ASan+UBSan, libFuzzer and AFL++ configurations
# (presets default, asan, fuzz, afl), then run every test in the release build -- the campaign
# tests drive real libFuzzer and AFL++ campaigns, and the OSS-Fuzz build is built and run -- and
# every test but those in the ASan+UBSan build (the engines are the same there).
#   tools/test.sh            everything, as CI runs it
#   tools/test.sh --quick    without the fuzz engines: presets default and asan only
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
presets=(default asan fuzz afl)
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
echo "test.sh: done in $((SECONDS - start)) s"
