#!/usr/bin/env bash
# Install the local BigQuery emulator (PyPI `local-bigquery`) into its own
# Python 3.13 virtualenv, fully offline except for PyPI.
#
#   bash .ci/install_bigquery_emulator.sh          # prints the emulator's python
#
# Environment:
#   NBA_FAILURES_BQ_EMULATOR_VENV   venv location
#                                   (default: $HOME/.cache/nba_failures/bq-emulator-venv)
#   NBA_FAILURES_BQ_PYTHON313       explicit Python 3.13 interpreter to build the venv
#
# Idempotent: a marker file records the pinned requirement set; when it matches,
# the pip step is skipped. The DuckDB extensions are (re)installed every run
# from the wheel files (cheap, < 1 s), never from the network: without them,
# DuckDB tries to auto-download `icu` / `ducklake` / `spatial` and hangs offline.
# They go inside the venv, under $VENV/duckdb_home/.duckdb/extensions (never the
# user's ~/.duckdb): the tests start the emulator with HOME=$VENV/duckdb_home,
# where DuckDB looks for them (nba_failures_tests/bigquery_emulator.py).
#
# Only the last line on stdout is the path of the emulator's python; all
# progress output goes to stderr.
set -euo pipefail

VENV="${NBA_FAILURES_BQ_EMULATOR_VENV:-$HOME/.cache/nba_failures/bq-emulator-venv}"
DUCKDB_VERSION="1.5.5"

# Fully pinned set (resolved with pip on Python 3.13.0).  local-bigquery 0.4.x
# needs duckdb>=2.0 for which no offline extension wheels exist; 0.3.2 works
# with duckdb 1.5.5 + the duckdb-extension-* 1.5.5 wheels.
REQUIREMENTS="$(cat <<EOF
local-bigquery==0.3.2
duckdb==${DUCKDB_VERSION}
duckdb-extension-icu==${DUCKDB_VERSION}
duckdb-extension-spatial==${DUCKDB_VERSION}
duckdb-extension-ducklake==${DUCKDB_VERSION}
annotated-doc==0.0.7
annotated-types==0.8.0
anyio==4.16.0
certifi==2026.10.19.post1
cffi==2.1.1
charset-normalizer==3.5.3
click==8.5.1
cryptography==50.0.2
fastapi==0.165.0
fastavro==1.13.1
google-api-core==2.44.0
google-auth==2.63.0
google-cloud-bigquery-storage==2.43.0
googleapis-common-protos==1.76.0
grpcio==1.85.3
grpcio-status==1.85.3
h11==0.16.0
idna==3.20
mini-racer==0.14.1
numpy==2.5.5
opentelemetry-api==1.45.2
prompt_toolkit==3.0.53
proto-plus==1.29.0
protobuf==7.36.2
pyarrow==26.0.1
pyasn1==0.6.5
pyasn1_modules==0.4.2
pycparser==3.12
pydantic==2.14.4
pydantic-settings==2.16.3
pydantic_core==2.50.5
Pygments==2.21.0
python-dotenv==1.2.4
requests==2.34.2
sqlglot==30.30.0
starlette==1.10.0
typing-inspection==0.4.5
typing_extensions==4.16.0
urllib3==2.8.0
uvicorn==0.54.0
wcwidth==0.9.4
EOF
)"

log() { echo "[install_bigquery_emulator] $*" >&2; }

is_py313() {
    [ -x "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' 2>/dev/null
}

find_python313() {
    local cand
    if [ -n "${NBA_FAILURES_BQ_PYTHON313:-}" ] && is_py313 "$NBA_FAILURES_BQ_PYTHON313"; then
        echo "$NBA_FAILURES_BQ_PYTHON313"; return 0
    fi
    if command -v pyenv >/dev/null 2>&1; then
        local root
        root="$(pyenv root 2>/dev/null || true)"
        if [ -n "$root" ]; then
            # Newest 3.13.x first.
            for cand in $(ls -d "$root"/versions/3.13* 2>/dev/null | sort -rV); do
                if is_py313 "$cand/bin/python3.13"; then echo "$cand/bin/python3.13"; return 0; fi
            done
        fi
    fi
    for cand in "$HOME/.pyenv/versions"/3.13*/bin/python3.13; do
        if is_py313 "$cand"; then echo "$cand"; return 0; fi
    done
    if command -v python3.13 >/dev/null 2>&1; then
        cand="$(command -v python3.13)"
        if is_py313 "$cand"; then echo "$cand"; return 0; fi
    fi
    return 1
}

PY="$VENV/bin/python"
MARKER="$VENV/.nba_failures_requirements"

if [ -x "$PY" ] && is_py313 "$PY" && [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$REQUIREMENTS" ]; then
    log "venv up to date: $VENV"
else
    BASE_PY="$(find_python313)" || {
        log "ERROR: no Python 3.13 found (tried \$NBA_FAILURES_BQ_PYTHON313, pyenv, python3.13 on PATH)"
        exit 1
    }
    log "creating venv $VENV with $BASE_PY"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$BASE_PY" -m venv "$VENV"
    REQ_FILE="$(mktemp)"
    trap 'rm -f "$REQ_FILE"' EXIT
    printf '%s\n' "$REQUIREMENTS" > "$REQ_FILE"
    log "installing pinned requirements"
    "$PY" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQ_FILE" >&2
    printf '%s' "$REQUIREMENTS" > "$MARKER"
fi

# Install the DuckDB extensions from the wheel files into the venv's own DuckDB
# extension directory ($VENV/duckdb_home/.duckdb/extensions/v1.5.5/<platform>/).
# Never touches the network.
log "installing duckdb extensions from wheels"
DUCKDB_EXTENSIONS="$VENV/duckdb_home/.duckdb/extensions" "$PY" - >&2 <<'PYEOF'
import importlib.util
import os
import pathlib

import duckdb

extension_directory = pathlib.Path(os.environ["DUCKDB_EXTENSIONS"])
extension_directory.mkdir(parents=True, exist_ok=True)
con = duckdb.connect(config={"extension_directory": str(extension_directory), "autoinstall_known_extensions": False})
version = duckdb.__version__
for name in ("icu", "spatial", "ducklake"):
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"duckdb_extension_{name} is not installed")
    pkg = pathlib.Path(next(iter(spec.submodule_search_locations)))
    files = sorted(pkg.glob(f"extensions/v{version}/{name}.duckdb_extension"))
    if not files:
        raise SystemExit(f"no {name}.duckdb_extension for duckdb v{version} in {pkg}")
    con.execute(f"FORCE INSTALL '{files[0]}'")
rows = con.execute(
    "SELECT extension_name, install_path FROM duckdb_extensions() "
    "WHERE extension_name IN ('icu', 'spatial', 'ducklake') AND installed"
).fetchall()
if len(rows) != 3:
    raise SystemExit(f"extension install incomplete: {rows}")
# Load them too, as a smoke check that the binaries match this duckdb.
for name, path in rows:
    con.execute(f"LOAD {name}")
    print(f"  {name}: {path}")
PYEOF

# Smoke check the emulator imports.
"$PY" -c 'import local_bigquery.cli, local_bigquery.app' >&2

echo "$PY"
