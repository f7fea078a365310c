#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs one of the decoders' fuzz targets (fuzz/decoder_targets.sh) for SECONDS from its own seeds,
# with its dictionary, as CI does: PASS if it ran that long without a crash, timeout or OOM.
#   fuzz/run_decoder_fuzzer.sh BUILD_DIR/fuzz/text_parser_fuzzer[_asan] SECONDS
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary="$1" seconds="$2"
# shellcheck source=fuzz/decoder_targets.sh
source "$here/fuzz/decoder_targets.sh"
target="$(basename "$binary")"
target="${target%_asan}"
[ -x "$binary" ] || { echo "FAIL: $binary is missing: build the fuzz preset"; exit 1; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# The first directory is the one libFuzzer adds to: a scratch copy, never the source tree.
mkdir "$scratch/corpus"
seeds=()
for d in $(mmudiff_decoder_seed_dirs "$target"); do seeds+=("$here/$d"); done
status=0
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" "$binary" -max_total_time="$seconds" -seed=1 \
  -dict="$here/$(mmudiff_decoder_dict "$target")" -max_len="$(mmudiff_decoder_max_len "$target")" \
  -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$scratch/" "$scratch/corpus" "${seeds[@]}" \
  >"$scratch/log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  grep -v "^#" "$scratch/log" | head -60
  for a in "$scratch"/crash-* "$scratch"/timeout-* "$scratch"/oom-* "$scratch"/leak-*; do
    [ -e "$a" ] && { echo "--- $(basename "$a"):"; head -c 2000 "$a"; echo; }
  done
  echo "FAIL: $target exited with $status"
  exit 1
fi
grep -q "Dictionary: [1-9][0-9]* entries" "$scratch/log" || { echo "FAIL: dictionary not loaded"; exit 1; }
done_line="$(grep -E "^Done [0-9]+ runs" "$scratch/log")" || { tail -20 "$scratch/log"; echo "FAIL: no Done line"; exit 1; }
runs="$(echo "$done_line" | awk '{print $2}')"
[ "$runs" -ge 100 ] || { echo "FAIL: only $runs runs in $seconds s"; exit 1; }
grep -E "^#[0-9]+[[:space:]]+DONE" "$scratch/log" || true
echo "PASS: $(basename "$binary"): $done_line"
