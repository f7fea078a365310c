#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The test suite: set up, build the release and ASan+UBSan configurations, then run every test in
# both. With --engines it also builds the libFuzzer and AFL++ targets (presets fuzz and afl) and
# runs the campaign tests that drive them, and the OSS-Fuzz build test (labels engines, slow);
# those take longer than CI's budget on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
if [ "${1:-}" = "--engines" ]; then
  tools/setup.sh default fuzz afl
  echo "test.sh: built in $((SECONDS - start)) s"
  ctest --preset default -L "engines|slow"
  echo "test.sh: done in $((SECONDS - start)) s"
  exit 0
fi
tools/setup.sh default asan
echo "test.sh: built in $((SECONDS - start)) s"
ctest --preset default -LE "engines|slow"
ctest --preset asan -LE "engines|slow"
echo "test.sh: done in $((SECONDS - start)) s"
