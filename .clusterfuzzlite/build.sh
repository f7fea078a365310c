#!/bin/bash -eu
# SPDX-License-Identifier: GPL-2.0-only
# ClusterFuzzLite's build step: the OSS-Fuzz build script does all of it (one build logic for
# both: same targets, seeds, dictionaries and .options). The Dockerfile copies this file to
# $SRC/build.sh and the checkout to $SRC/mmudiff; run from the checkout it finds its own tree.
# Tested by fuzz/oss-fuzz/test_build.sh .clusterfuzzlite/build.sh (ctest oss_fuzz_and_cflite_build).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for tree in "$here/.." "${SRC:-/src}/mmudiff"; do
  if [ -f "$tree/fuzz/oss-fuzz/build.sh" ]; then
    exec bash -eu "$tree/fuzz/oss-fuzz/build.sh"
  fi
done
echo "build.sh: no mmudiff checkout at $here/.. or \$SRC/mmudiff" >&2
exit 1
