"""Security: values only ever travel as bound parameters, identifiers only come from the schema, and
credentials never reach logs, metadata or error messages."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterInstance

from nba_failures import definitions
from nba_failures.warehouse.bigquery_warehouse import BigQueryWarehouse
from nba_failures.warehouse.schema import Column, ColumnType, Mode, TableSpec, string
from nba_failures_tests import faults
from nba_failures_tests.harness import run_assets
from nba_failures_tests.robustness.sql_audit import audit_package, audit_source, sql_call_count

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "nba_failures"
DAY = dt.date(2023, 1, 15)
NEXT = DAY + dt.timedelta(days=1)

CANARY = TableSpec(
    "nba_processing",
    "security_canary",
    "Must survive every hostile value.",
    (Column("probe_date", ColumnType.DATE, "", Mode.REQUIRED), string("label", "")),
    "probe_date",
)
PROBE = TableSpec(
    "nba_processing",
    "security_probe",
    "Hostile values as data.",
    (Column("probe_date", ColumnType.DATE, "", Mode.REQUIRED), string("label", ""), string("value", "")),
    "probe_date",
)
HOSTILE = [
    "O'Neal",
    "Robert'); DROP TABLE nba_processing.security_canary;--",
    "x' OR '1'='1",
    '"; DROP TABLE nba_processing.security_canary; --',
    "`nba_processing`.`security_canary`",
    "back\\slash\\' escaped",
    "?", "$1", "@slice_start", "%s %_",
    "Jokić", "🏀 \u202e reversed", "line\nbreak\ttab",
    "x" * 10_240,
]  # fmt: skip


# ---------------------------------------------------------------- static: SQL is built from identifiers only


def test_every_sql_string_in_the_package_is_built_from_identifiers() -> None:
    assert sql_call_count(PACKAGE_DIR) >= 10  # the audit looks at the real statements, not at nothing
    assert audit_package(PACKAGE_DIR) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "def f(c, v):\n    c.execute(f\"SELECT * FROM t WHERE x = '{v}'\")",
        'def f(c, v):\n    sql = "SELECT * FROM t WHERE x = \'" + v + "\'"\n    c.execute(sql)',
        "def f(c, v):\n    c.execute(\"SELECT * FROM t WHERE x = '%s'\" % v)",
        "def f(c, v):\n    c.query('SELECT {}'.format(v))",
        "def f(c, table, v):\n    sql = f'SELECT {table.qualified_name}'\n    sql += f' WHERE x = {v}'\n    c.execute(sql)",
        # the pattern the package used for `where_in` keys: a caller's string, even after a schema check
        "def w(table, where_in):\n    clauses = []\n    for name, values in where_in.items():\n        table.column(name)\n"
        "        clauses.append(f'list_contains(?, {name})')\n    return clauses, []\n"
        "def f(c, table, where_in):\n    clauses, params = w(table, where_in)\n"
        "    c.execute(f\"DELETE FROM {table.qualified_name} WHERE {' AND '.join(clauses)}\", params)",
        "def f(c, table, alias):\n    c.execute(f'SELECT 1 FROM {table.name} {alias}')\nf(None, None, alias=input())",
        # a closure's free name is the enclosing function's value
        "def f(c, v):\n    sql = f'SELECT {v}'\n    def run():\n        c.query(sql)\n    run()",
        "def f(c, v):\n    def run():\n        c.query(v)\n    run()",
        # a value inside SQLAlchemy's text(), also behind its bindparams()
        "def f(c, v):\n    c.execute(text(f'SELECT {v}'))",
        "def f(c, v):\n    query = text('SELECT ' + v).bindparams(bindparam('x'))\n    c.execute(query, {'x': 1})",
    ],
    ids=[
        "f-string", "concatenation", "percent", "format", "augmented", "where_in-key", "non-constant-alias",
        "closure-over-value", "closure-over-parameter", "text", "text-bindparams",
    ],
)  # fmt: skip
def test_the_audit_catches_a_value_interpolated_into_sql(snippet: str) -> None:
    assert audit_source(snippet), "the audit let a value into SQL"


def test_the_audit_follows_a_closure_to_the_identifiers_it_was_built_from() -> None:
    snippet = (
        "def f(c, table):\n    sql = f'SELECT * FROM {table.qualified_name}'\n    def run():\n        c.query(sql)\n    run()"
    )
    assert audit_source(snippet) == []


# ---------------------------------------------------------------- dynamic: hostile values round-trip as data


def _round_trip(warehouse) -> None:
    warehouse.replace(CANARY, pd.DataFrame({"probe_date": [DAY], "label": ["canary"]}), DAY, NEXT)
    rows = pd.DataFrame({"probe_date": DAY, "label": HOSTILE + ["bystander"], "value": HOSTILE + ["plain"]})
    assert warehouse.replace(PROBE, rows, DAY, NEXT) == len(HOSTILE) + 1

    # Each hostile value selects exactly its own row (an interpolated quote would break or widen the filter).
    for value in HOSTILE:
        found = warehouse.read(PROBE, DAY, NEXT, where_in={"label": [value]})
        assert found["value"].tolist() == [value], repr(value[:60])
    assert sorted(warehouse.read(PROBE, DAY, NEXT, where_in={"label": HOSTILE})["value"]) == sorted(HOSTILE)

    # Replacing one hostile slice touches only that slice.
    victim = HOSTILE[1]
    changed = pd.DataFrame({"probe_date": [DAY], "label": [victim], "value": ["replaced"]})
    warehouse.replace(PROBE, changed, DAY, NEXT, where_in={"label": [victim]})
    after = warehouse.read(PROBE, DAY, NEXT).set_index("label")["value"]
    assert after[victim] == "replaced"
    assert all(after[value] == value for value in HOSTILE if value != victim)
    assert after["bystander"] == "plain"
    assert warehouse.read(CANARY, DAY, NEXT)["label"].tolist() == ["canary"]

    # Identifiers are checked against the schema before any SQL is built.
    for column in ("no_such_column", "label) OR 1=1 --", "value; DROP TABLE nba_processing.security_canary"):
        with pytest.raises(KeyError, match="has no column"):
            warehouse.read(PROBE, DAY, NEXT, where_in={column: ["x"]})
        with pytest.raises(KeyError):
            warehouse.replace(
                PROBE, rows.assign(**{column: "x"}) if column.isidentifier() else rows, DAY, NEXT, where_in={column: ["x"]}
            )
    assert len(warehouse.read(PROBE, DAY, NEXT)) == len(HOSTILE) + 1


def test_hostile_values_round_trip_on_duckdb(warehouse) -> None:
    _round_trip(warehouse)


@pytest.mark.slow(seconds=10)
def test_hostile_values_round_trip_on_bigquery(bigquery_warehouse) -> None:
    _round_trip(bigquery_warehouse)


# ---------------------------------------------------------------- credentials never leak


MARKER = "CREDENTIAL-MARKER-5b1f0c"


def _fake_key() -> str:
    key = {
        "type": "service_account",
        "project_id": "nba-failures-test",
        "private_key_id": f"{MARKER}-key-id",
        "private_key": f"-----BEGIN PRIVATE KEY-----\n{MARKER}\n-----END PRIVATE KEY-----\n",
        "client_email": f"{MARKER}@nba-failures-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "http://127.0.0.1:9/token",
    }
    return base64.b64encode(json.dumps(key).encode()).decode()


def _refused_endpoint() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there: connections are refused


@pytest.mark.parametrize("endpoint", ["refused", "none"], ids=["endpoint-refuses-connections", "google-auth-with-fake-key"])
def test_credentials_never_appear_in_logs_metadata_or_errors(
    endpoint: str, season_landing: Path, tmp_path: Path, monkeypatch, capfd, caplog
) -> None:
    monkeypatch.setenv("NBA_FAILURES_WAREHOUSE", "bigquery")
    monkeypatch.setenv("NBA_FAILURES_BQ_PROJECT", "nba-failures-test")
    monkeypatch.setenv("NBA_FAILURES_BQ_CREDENTIALS", _fake_key())
    if endpoint == "refused":
        monkeypatch.setenv("NBA_FAILURES_BQ_API_ENDPOINT", _refused_endpoint())
    else:
        monkeypatch.delenv("NBA_FAILURES_BQ_API_ENDPOINT", raising=False)
    configured = definitions.build_warehouse()  # the production wiring: settings as EnvVars
    assert isinstance(configured, BigQueryWarehouse)
    warehouse = BigQueryWarehouse(bigquery=configured.bigquery, retry_deadline_seconds=1.0)
    landing = faults.copy_landing_day(season_landing, tmp_path / "landing", DAY)

    instance = DagsterInstance.ephemeral()
    result = run_assets(warehouse, landing, DAY, selection=["nbac_schedule"], instance=instance, raise_on_error=False)

    assert not result.success
    failures = [event for event in result.all_events if event.is_step_failure]
    assert failures
    texts = [str(event) for event in result.all_events]
    texts += [str(entry) for entry in instance.all_logs(result.run_id)]
    texts += [str(record.getMessage()) for record in caplog.records]
    captured = capfd.readouterr()
    texts += [captured.out, captured.err]
    encoded = _fake_key()
    for text in texts:
        assert MARKER not in text
        assert encoded not in text
    # …while the error still says what failed: the typed error naming the table (refused connection, or
    # google-auth refusing the fake key).
    error, chain = failures[0].event_specific_data.error, []
    while error is not None:
        chain.append(error.to_string())
        error = error.cause
    assert "WarehouseUnavailable" in "\n".join(chain) and "nba_raw.nbac_schedule" in "\n".join(chain)
