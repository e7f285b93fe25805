#!/usr/bin/env bash
# Headless Chromium for the report's render check (tests/integration/test_report_render.py).
# Debian's `chromium` package pulls in a desktop's worth of shared libraries, so unlike
# Prometheus it is not unpacked into the cache but installed with apt-get, and only when
# `chromium` is missing: the one system-wide install of the project.
#
# Usage: deploy/chromium.sh [ensure]   exit 0 with the path of chromium on stdout
# Needs root (or password-less sudo) when chromium is missing.
set -euo pipefail

if found=$(command -v chromium); then
    echo "$found"
    exit 0
fi
if [[ $(id -u) -eq 0 ]]; then
    as_root=()
elif sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "chromium: not installed, and installing it needs root: sudo apt-get install -y chromium" >&2
    exit 1
fi
log=$(mktemp -t parity-chromium.XXXXXX.log)
echo "chromium: installing Debian's chromium package (log: $log)" >&2
if ! DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y --no-install-recommends \
    chromium >"$log" 2>&1; then
    "${as_root[@]}" apt-get update -qq >>"$log" 2>&1
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y --no-install-recommends \
        chromium >>"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
fi
command -v chromium
