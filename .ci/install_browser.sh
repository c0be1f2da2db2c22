#!/usr/bin/env bash
# Install headless Chromium and its WebDriver from Debian's packages (no browser download of its own),
# for the dashboard and Dagster UI browser tests (nba_failures_tests/dashboard/test_browser.py).
#
#   bash .ci/install_browser.sh        # idempotent: does nothing when both are installed
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    echo "chromium and chromedriver present: $(chromium --version 2>/dev/null || echo '?')" >&2
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq chromium chromium-driver >&2
chromium --version >&2
