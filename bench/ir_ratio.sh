#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The oracle overhead in instructions: the harness with every oracle against the backends alone,
# on the same streams, counted by callgrind (repeatable, unlike wall time on a shared machine).
#   bench/ir_ratio.sh [CORPUS_DIR]      (default: mmudiff_bench's 64-operation random streams)
#   bench/ir_ratio.sh --by-length       the same streams joined 1 and 64 at a time: instructions
#                                       per operation against the stream's length
# Needs valgrind and the default build (tools/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/default/bench/ir_ratio
[ -x "$bin" ] || { echo "ir_ratio.sh: $bin is not built (tools/setup.sh)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "ir_ratio.sh: valgrind is not installed" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {  # instructions inside one_stream(): count NAME MODE [ARGS...]
  local name=$1
  shift
  valgrind --tool=callgrind --callgrind-out-file="$out/$name" --toggle-collect='*one_stream*' \
    "$bin" "$@" 2>"$out/$name.err" >/dev/null
  callgrind_annotate "$out/$name" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
field() {  # field NAME streams|operations: what ir_ratio said it ran
  grep -o "[0-9]* $2" "$out/$1.err" | head -1 | cut -d' ' -f1
}
if [ "${1:-}" = --by-length ]; then
  for segments in 1 64; do
    b=$(count b$segments backends --segments $segments)
    h=$(count h$segments harness --segments $segments)
    awk -v b="$b" -v h="$h" -v n="$(field b$segments operations)" -v s=$segments 'BEGIN {
      printf "%d-operation streams: backends alone %.0f instructions per operation, with every oracle %.0f: %.2fx\n",
             s * 65, b / n, h / n, h / b }'
  done
  exit 0
fi
b=$(count backends backends "$@")
h=$(count harness harness "$@")
n=$(field backends streams)
awk -v b="$b" -v h="$h" -v n="$n" 'BEGIN {
  printf "%d streams: backends alone %.3f M instructions per stream, with every oracle %.3f M: %.2fx\n",
         n, b / n / 1e6, h / n / 1e6, h / b }'
