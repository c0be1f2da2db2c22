#!/usr/bin/env bash
# PostgreSQL's server binaries (Debian package `postgresql`), for the tests of the production instance
# (deploy/dagster.yaml). Installed only when missing. Prints the directory holding initdb and pg_ctl.
set -euo pipefail
find_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
bindir="$(find_bindir)"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >&2
    $SUDO apt-get install -y -qq --no-install-recommends postgresql >&2
    bindir="$(find_bindir)"
fi
echo "$bindir"
