#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `cmake --install` into a temporary prefix, the prefix then moved elsewhere, and the installed
# mmudiff run from an unrelated directory: the layout is where GNUInstallDirs says, and the binary
# needs neither the source nor the build tree.
#   tests/install_test.sh BUILD_DIR              the CLI's build: bin, share, docs; run, backends,
#                                                prove, report
#   tests/install_test.sh BUILD_DIR FUZZ_BUILD AFL_BUILD
#                                                and both fuzz builds' targets in libexec: the
#                                                installed `mmudiff campaign` runs AFL++'s and
#                                                measures coverage with libFuzzer's
set -euo pipefail
build="$1" fuzz_build="${2:-}" afl_build="${3:-}"
[ -z "$fuzz_build" ] || [ -n "$afl_build" ] || { echo "FAIL: a libFuzzer build without an AFL++ build"; exit 1; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$scratch/staged" >"$scratch/install.log" 2>&1 ||
  { cat "$scratch/install.log"; fail "cmake --install $build"; }
if [ -n "$fuzz_build" ]; then
  [ -x "$fuzz_build/fuzz/stream_fuzzer_asan" ] || fail "$fuzz_build is not a complete fuzz build"
  cmake --install "$fuzz_build" --prefix "$scratch/staged" >>"$scratch/install.log" 2>&1 ||
    { cat "$scratch/install.log"; fail "cmake --install $fuzz_build"; }
  [ -x "$afl_build/fuzz/stream_fuzzer_asan" ] || fail "$afl_build is not a complete AFL++ build"
  cmake --install "$afl_build" --prefix "$scratch/staged" >>"$scratch/install.log" 2>&1 ||
    { cat "$scratch/install.log"; fail "cmake --install $afl_build"; }
fi
# Relocated: whatever the binary finds, it finds relative to itself.
mv "$scratch/staged" "$scratch/prefix"
p="$scratch/prefix"
echo "installed: $(cd "$p" && find . -type f | wc -l) files"

expect=(bin/mmudiff share/mmudiff/corpus/seeds/aging.mmu share/mmudiff/schema/run-1.schema.json
        share/doc/mmudiff/README.md share/doc/mmudiff/LICENSE)
[ -n "$(ls "$p"/share/mmudiff/corpus/regressions/*.mmu)" ] || fail "no regressions installed"
if [ -n "$fuzz_build" ]; then
  for t in stream_fuzzer text_parser_fuzzer run_dir_fuzzer; do
    expect+=("libexec/mmudiff/libfuzzer/$t" "libexec/mmudiff/libfuzzer/${t}_asan")
  done
  expect+=(libexec/mmudiff/libfuzzer/mmudiff.dict libexec/mmudiff/afl/stream_fuzzer
           libexec/mmudiff/afl/stream_fuzzer_asan libexec/mmudiff/afl/libmmudiff_afl_mutator.so
           libexec/mmudiff/afl/mmudiff.dict)
  for engine in libfuzzer afl; do
    [ -n "$(ls "$p"/libexec/mmudiff/$engine/seeds/*.bin)" ] || fail "no binary seeds installed for $engine"
  done
fi
for f in "${expect[@]}"; do
  [ -s "$p/$f" ] || fail "$f is not installed"
  echo "  $f"
done

mkdir "$scratch/elsewhere"
cd "$scratch/elsewhere"
mmudiff="$p/bin/mmudiff"
run() {  # run EXPECTED_STATUS COMMAND...: the installed binary's output and status
  local want="$1" status=0
  shift
  env -u MMUDIFF_LIBFUZZER_DIR -u MMUDIFF_AFL_DIR "$mmudiff" "$@" >out.log 2>&1 || status=$?
  [ "$status" -eq "$want" ] || { tail -20 out.log; fail "mmudiff $* exited $status, not $want"; }
  echo "ok: mmudiff $* (exit $status): $(grep -v '^ *$' out.log | tail -1)"
}
run 0 backends
grep -q walker out.log || fail "backends does not list walker"
run 0 run -q "$p/share/mmudiff/corpus/seeds/aging.mmu"
run 1 run -q --plant walker-reserved-bit \
  "$p/share/mmudiff/corpus/regressions/plant-walker-reserved-bit.mmu"
run 0 prove
run 0 run -q --out rundir "$p/share/mmudiff/corpus/seeds/blocks_and_pages.mmu"
run 0 report rundir
[ -s rundir/report.html ] && [ -s rundir/report.json ] || fail "report wrote no report.html/json"

if [ -n "$fuzz_build" ]; then
  # No --fuzzer-dir, no environment: the campaign must find the installed targets. AFL++ records
  # the command line of each instance; the coverage replay records which target it ran.
  run 0 campaign --time 5 --out campaign
  fuzzed="$(sed -n 's/^command_line *: .* -- \(.*\)$/\1/p' campaign/.work/afl-sync/main/fuzzer_stats)"
  [ "$fuzzed" = "$p/libexec/mmudiff/afl/stream_fuzzer" ] ||
    fail "the campaign fuzzed '$fuzzed', not the installed AFL++ stream_fuzzer"
  target="$(sed -n 's/.*"target": *"\([^"]*\)".*/\1/p' campaign/coverage.json)"
  [ "$target" = "$p/libexec/mmudiff/libfuzzer/stream_fuzzer" ] ||
    fail "the campaign measured coverage with $target, not the installed stream_fuzzer"
  echo "ok: campaign fuzzed with $fuzzed, measured coverage with $target"
fi
echo "PASS: installed into a temporary prefix, moved, and run from another directory"
