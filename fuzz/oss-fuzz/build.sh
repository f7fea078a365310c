#!/bin/bash -eu
# SPDX-License-Identifier: GPL-2.0-only
# OSS-Fuzz / ClusterFuzzLite build script. Honours the variables those builders set:
#   CC CXX CFLAGS CXXFLAGS   compilers and flags (sanitizer and coverage flags included)
#   LIB_FUZZING_ENGINE       what to link the targets with (-fsanitize=fuzzer, AFL++'s driver, ...)
#   OUT                      where the targets, their seed corpora, .options and .dict go
#   SRC, WORK                source checkout and scratch space (this script finds its own tree)
# Emits $OUT/mmudiff_stream_fuzzer, mmudiff_stream_fuzzer_seed_corpus.zip (corpus/seeds and
# corpus/regressions in binary), mmudiff_stream_fuzzer.options and mmudiff_stream_fuzzer.dict,
# and $OUT/lib/ with the shared libraries the target needs (found through its RPATH), since a
# fuzzing runner has only what is in $OUT. The image needs the Debian packages tools/setup.sh
# lists (cmake, ninja-build, libsodium-dev, libfmt-dev, nlohmann-json3-dev, libcli11-dev,
# libz3-dev, linux-source-6.1, xz-utils, zip).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${WORK:-$(mktemp -d)}/mmudiff-build"
: "${OUT:?OUT must name the output directory}"
: "${LIB_FUZZING_ENGINE:?LIB_FUZZING_ENGINE must say how to link a fuzz target}"

cmake -S "$here" -B "$work" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="${CC:-clang}" -DCMAKE_CXX_COMPILER="${CXX:-clang++}" \
  -DCMAKE_C_FLAGS="${CFLAGS:-}" -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" \
  -DCMAKE_EXE_LINKER_FLAGS='-Wl,-rpath,$ORIGIN/lib' \
  -DMMUDIFF_FUZZ=ON -DMMUDIFF_FUZZ_ENGINE_LINK="$LIB_FUZZING_ENGINE" \
  -DMMUDIFF_FUZZ_ASAN_VARIANT=OFF \
  -DMMUDIFF_WERROR=OFF -DMMUDIFF_TESTS=OFF -DMMUDIFF_BENCH=OFF >/dev/null
cmake --build "$work" --target stream_fuzzer fuzz_seeds

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
mkdir -p "$OUT/lib"
ldd "$OUT/$name" | awk '/=> \// {print $3}' | grep -E 'lib(fmt|sodium)' | while read -r lib; do
  cp -L "$lib" "$OUT/lib/"
done
echo "build.sh: $OUT/$name with $(unzip -l "$OUT/${name}_seed_corpus.zip" | tail -1 | awk '{print $2}') seeds"
