#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The main job: set up, build, and run a fuzzing campaign (AFL++, every core, one worker with
# ASan+UBSan) over every backend for 60 seconds into runs/<timestamp>/, ending in its summary and
# report. The libFuzzer build is built too: the campaign measures its coverage by backend with it.
# Extra arguments go to 'mmudiff campaign' (--time, --jobs, --engine libfuzzer, --plant NAME, ...).
# Exit status as 'mmudiff campaign': 0 nothing found, 1 findings, 2 bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh default fuzz afl
out="runs/$(date -u +%Y%m%dT%H%M%SZ)"
status=0
build/default/tools/mmudiff/mmudiff campaign --time 60 --out "$out" "$@" || status=$?
exit "$status"
