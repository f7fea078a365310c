#!/bin/bash -eu
# SPDX-License-Identifier: GPL-2.0-only
# OSS-Fuzz / ClusterFuzzLite build script. Honours the variables those builders set:
#   CC CXX CFLAGS CXXFLAGS   compilers and flags (sanitizer and coverage flags included)
#   LIB_FUZZING_ENGINE       what to link the targets with (-fsanitize=fuzzer, AFL++'s driver, ...)
#   OUT                      where the targets, their seed corpora, .options and .dict go
#   SRC, WORK                source checkout and scratch space (this script finds its own tree)
# Emits $OUT/mmudiff_stream_fuzzer, mmudiff_stream_fuzzer_seed_corpus.zip (corpus/seeds and
# corpus/regressions in binary), mmudiff_stream_fuzzer.options and mmudiff_stream_fuzzer.dict;
# the same four for each decoder target of fuzz/decoder_targets.sh (mmudiff_text_parser_fuzzer,
# mmudiff_run_dir_fuzzer: seeds, dictionary and input bound from that file); and $OUT/lib/ with
# the shared libraries the targets need (found through their RPATH), since a fuzzing runner has
# only what is in $OUT. The image needs the Debian packages tools/setup.sh lists (cmake,
# ninja-build, libsodium-dev, libfmt-dev, nlohmann-json3-dev, libcli11-dev, libz3-dev,
# linux-source-6.1, xz-utils, zip). .clusterfuzzlite/build.sh runs this script as it is.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${WORK:-$(mktemp -d)}/mmudiff-build"
: "${OUT:?OUT must name the output directory}"
: "${LIB_FUZZING_ENGINE:?LIB_FUZZING_ENGINE must say how to link a fuzz target}"

# shellcheck source=fuzz/decoder_targets.sh
source "$here/fuzz/decoder_targets.sh"
# The distribution's libraries (fmt) are built against libstdc++: OSS-Fuzz's default
# -stdlib=libc++ would not link with them (so MemorySanitizer builds are not supported).
CXXFLAGS="${CXXFLAGS:-}"
CXXFLAGS="${CXXFLAGS//-stdlib=libc++/}"

cmake -S "$here" -B "$work" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="${CC:-clang}" -DCMAKE_CXX_COMPILER="${CXX:-clang++}" \
  -DCMAKE_C_FLAGS="${CFLAGS:-}" -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" \
  -DCMAKE_EXE_LINKER_FLAGS='-Wl,-rpath,$ORIGIN/lib' \
  -DMMUDIFF_FUZZ=ON -DMMUDIFF_FUZZ_ENGINE_LINK="$LIB_FUZZING_ENGINE" \
  -DMMUDIFF_FUZZ_ASAN_VARIANT=OFF \
  -DMMUDIFF_WERROR=OFF -DMMUDIFF_TESTS=OFF -DMMUDIFF_BENCH=OFF >/dev/null
cmake --build "$work" --target stream_fuzzer fuzz_seeds "${mmudiff_decoder_targets[@]}"

name=mmudiff_stream_fuzzer
cp "$work/fuzz/stream_fuzzer" "$OUT/$name"
cp "$here/fuzz/mmudiff.dict" "$OUT/$name.dict"
cat >"$OUT/$name.options" <<OPTIONS
[libfuzzer]
dict = $name.dict
max_len = 4096
timeout = 30
OPTIONS
rm -f "$OUT/${name}_seed_corpus.zip"
(cd "$work/fuzz" && zip -q -j "$OUT/${name}_seed_corpus.zip" seeds/*.bin $(ls regressions/*.bin 2>/dev/null))
emitted=("$name")

for target in "${mmudiff_decoder_targets[@]}"; do
  name="mmudiff_$target"
  cp "$work/fuzz/$target" "$OUT/$name"
  cp "$here/$(mmudiff_decoder_dict "$target")" "$OUT/$name.dict"
  cat >"$OUT/$name.options" <<OPTIONS
[libfuzzer]
dict = $name.dict
max_len = $(mmudiff_decoder_max_len "$target")
timeout = 10
OPTIONS
  rm -f "$OUT/${name}_seed_corpus.zip"
  # -j: the seeds' names only, which zip refuses to repeat: seeds of one target need distinct
  # names across its directories.
  seeds=$(cd "$here" && for d in $(mmudiff_decoder_seed_dirs "$target"); do ls "$d"/*; done)
  clash=$(echo "$seeds" | awk -F/ '{print $NF}' | sort | uniq -d)
  if [ -n "$clash" ]; then
    echo "build.sh: seeds of $name share a name across directories: $clash" >&2
    exit 1
  fi
  (cd "$here" && zip -q -j "$OUT/${name}_seed_corpus.zip" $seeds)
  emitted+=("$name")
done

mkdir -p "$OUT/lib"
for name in "${emitted[@]}"; do
  ldd "$OUT/$name" | awk '/=> \// {print $3}' | grep -E 'lib(fmt|sodium)' | while read -r lib; do
    cp -L "$lib" "$OUT/lib/"
  done
  echo "build.sh: $OUT/$name with $(unzip -l "$OUT/${name}_seed_corpus.zip" | tail -1 | awk '{print $2}') seeds"
done
