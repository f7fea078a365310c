#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Makes sure Debian's chromium is installed, for the test that renders report.html headless; the
# rest of mmudiff never needs a browser, so tools/setup.sh does not install it. Prints the path of
# the browser on success. Safe to run again: it installs only what is missing.
set -euo pipefail

find_browser() { command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null; }

if browser=$(find_browser); then
  echo "$browser"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "ensure_chromium: installing chromium (Debian package, no recommends)" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >&2
if ! browser=$(find_browser); then
  echo "ensure_chromium: chromium is still missing after apt-get install" >&2
  exit 1
fi
echo "$browser"
