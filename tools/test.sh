#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The whole test suite: set up, build the release and the ASan+UBSan configurations, and run every
# test in both.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh default asan
ctest --preset default
ctest --preset asan
