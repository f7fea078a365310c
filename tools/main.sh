#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The main job: set up, build, and run the bundled example operation streams through every backend
# in this build, printing each oracle's verdict. Exit status as 'mmudiff run': 0 all agree.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh default
build/default/tools/mmudiff/mmudiff backends
exec build/default/tools/mmudiff/mmudiff run "$@" corpus/seeds/*.mmu
