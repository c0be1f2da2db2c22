#!/usr/bin/env bash
# Install headless Chromium and its WebDriver from Debian's packages (no browser download of its own),
# for the dashboard and Dagster UI browser tests (nba_failures_tests/dashboard/test_browser.py).
#
#   bash .ci/install_browser.sh        # idempotent: does nothing when both packages are installed
#
# Installs those two packages and what they depend on, nothing recommended, and upgrades nothing already there.
# The version is read from the package database: starting the `chromium` launcher to ask it would run Debian's
# /etc/chromium.d scripts, whose /dev/shm check prints "[: ...: unexpected operator" where /dev/shm is mounted twice.
set -euo pipefail

PACKAGES=(chromium chromium-driver)

installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = "installed" ]
}

missing=()
for package in "${PACKAGES[@]}"; do
    installed "$package" || missing+=("$package")
done

if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >&2
    $SUDO apt-get install -y -qq --no-install-recommends --no-upgrade "${missing[@]}" >&2
fi
echo "chromium and chromedriver: $(dpkg-query -W -f='${Version}' chromium)" >&2
